using Cleave.Evaluation.Datasets;

namespace Cleave.Evaluation.Tests;

public sealed class ImageFolderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cleave-eval-").FullName;
    private readonly string _wnids;

    public ImageFolderTests()
    {
        _wnids = Path.Combine(_dir, "wnids.txt");
        File.WriteAllLines(_wnids, ["n001", "n002", "n003"]);
        foreach (string name in new[] { "n003_zebra.JPEG", "n001_apple.JPEG", "n999_unknown.JPEG", "notes.txt", "n002_x.png" })
            File.WriteAllBytes(Path.Combine(_dir, name), [1]);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void File_names_give_the_line_of_the_wnid_and_skip_unknown_wnids_and_non_images()
    {
        var images = ImageFolder.Load(_dir, _wnids);
        Assert.Equal(["n001_apple.JPEG", "n002_x.png", "n003_zebra.JPEG"], images.Select(i => Path.GetFileName(i.Path)));
        Assert.Equal([0, 1, 2], images.Select(i => i.ClassIndex));
    }

    [Fact]
    public void Labels_csv_takes_precedence_and_accepts_a_header_class_indices_and_wnids()
    {
        File.WriteAllLines(Path.Combine(_dir, "labels.csv"), ["file,label", "n003_zebra.JPEG,0", "", "# comment", "n001_apple.JPEG, n003 "]);
        var images = ImageFolder.Load(_dir, _wnids);
        Assert.Equal(2, images.Count);
        Assert.Equal(("n001_apple.JPEG", 2), (Path.GetFileName(images[0].Path), images[0].ClassIndex));
        Assert.Equal(("n003_zebra.JPEG", 0), (Path.GetFileName(images[1].Path), images[1].ClassIndex));
    }

    [Theory]
    [InlineData("n001_apple.JPEG,0,extra", "line 2: expected 2 columns")]
    [InlineData("n001_apple.JPEG,n777", "line 2: label 'n777' is neither a class index nor a known wnid")]
    [InlineData("n001_apple.JPEG,3", "line 2: class 3 is outside 0..2")]
    [InlineData("missing.JPEG,1", "line 2: image 'missing.JPEG' does not exist")]
    [InlineData("n001_apple.JPEG,1\nn001_apple.JPEG,2", "line 3: image 'n001_apple.JPEG' is listed twice")]
    public void Bad_rows_name_the_file_line_and_problem(string rows, string expected)
    {
        string csv = Path.Combine(_dir, "labels.csv");
        File.WriteAllText(csv, "n003_zebra.JPEG,0\n" + rows + "\n");
        var error = Assert.Throws<LabelFileException>(() => ImageFolder.Load(_dir, _wnids));
        Assert.Contains(expected, error.Message);
        Assert.Contains("labels.csv", error.Message);
    }

    [Fact]
    public void A_header_is_only_accepted_on_the_first_row_and_wnids_need_a_list()
    {
        string csv = Path.Combine(_dir, "labels.csv");
        File.WriteAllLines(csv, ["n003_zebra.JPEG,0", "file,label"]);
        Assert.Contains("line 2", Assert.Throws<LabelFileException>(() => ImageFolder.Load(_dir, _wnids)).Message);
        File.WriteAllLines(csv, ["n003_zebra.JPEG,n001"]);
        Assert.Contains("give a wnid list", Assert.Throws<LabelFileException>(() => ImageFolder.Load(_dir, null)).Message);
        File.WriteAllLines(csv, ["n003_zebra.JPEG,1"]);
        Assert.Equal(1, Assert.Single(ImageFolder.Load(_dir, null)).ClassIndex);
    }

    [Fact]
    public void A_folder_without_labels_needs_a_wnid_list_and_an_empty_one_is_an_error()
    {
        Assert.Throws<ArgumentException>(() => ImageFolder.Load(_dir, null));
        string empty = Directory.CreateDirectory(Path.Combine(_dir, "empty")).FullName;
        Assert.Contains("no labelled images", Assert.Throws<ArgumentException>(() => ImageFolder.Load(empty, _wnids)).Message);
    }
}
