global using Cleave.Runtime.Tests.Generation;
