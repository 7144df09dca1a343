Console.WriteLine("cleave");
