namespace Cleave.Cli.Commands;

/// <summary>
/// Two or three runnable command lines per verb, printed at the end of its --help. They run from the repository
/// root against the shared assets and build on each other the way README.md's walkthrough does: `import` writes
/// artifacts/mobilenet_v2.onnx, `split` writes artifacts/split5, `import` of the llama2.c checkpoint writes
/// artifacts/stories260K.
/// </summary>
internal static class VerbExamples
{
    private const string Assets = "../shared/assets";
    private const string Images = Assets + "/imagenet-sample";
    private const string Model = "artifacts/mobilenet_v2.onnx";
    private const string Split = "artifacts/split5";
    private const string Cut = "MobilenetV2/expanded_conv_5/add";
    private const string Lm = "artifacts/stories260K";

    public static readonly IReadOnlyDictionary<string, string[]> All = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        ["demo"] = ["cleave demo", "cleave demo --images 50 --link ble", "cleave demo --codec quant:bits=8,entropy=rans --json"],
        ["import"] =
        [
            $"cleave import {Assets}/vision/mobilenet_v2_1.0_224_quant.tflite -o {Model}",
            $"cleave import {Assets}/vision/mobilenet_v2_1.0_224_quant.tflite -o {Model} --measure-imagenet --limit 100",
            $"cleave import {Assets}/llm/stories260K.bin --tokenizer {Assets}/llm/tok512.bin -o {Lm} --splits --prediction-tokens 8192",
        ],
        ["inspect"] = [$"cleave inspect {Model}", $"cleave inspect {Model} --profile --runs 3", $"cleave inspect {Model} --json"],
        ["split"] =
        [
            $"cleave split {Model} --at {Cut} -o {Split}",
            $"cleave split {Model} --at {Cut} -o {Split} --verify",
        ],
        ["eval"] =
        [
            $"cleave eval --model {Model} --data {Images} --split {Cut} --codec \"quant:bits={{4,8}},entropy=rans\" --limit 100",
            $"cleave eval --model {Model} --data {Images} --split-dir {Split} --codec rans-ifc:bits=3,levels=6,clip=3,ctx=2d --report artifacts/eval5",
            $"cleave eval --model {Model} --data {Images} --split-dir {Split} --exit-threshold off --baseline \"local;jpeg:q={{50,90}}\" --limit 100",
        ],
        ["sweep"] =
        [
            $"cleave sweep --model {Model} --data {Images} --splits {Cut} --codecs \"quant:bits={{4,8}},entropy=rans\" --limit 50 --report artifacts/sweep",
            "cleave sweep --from artifacts/sweep/results.json --report artifacts/sweep",
        ],
        ["serve"] =
        [
            $"cleave serve {Split}", $"cleave serve {Split} --full {Model} --port 7070 --max-batch 8 --log-level information",
            $"cleave serve {Split} --cluster redis://127.0.0.1:6379 --silo-port 11111 --gateway-port 30001 --silo-cert silo.pfx --silo-cert-password-env SILO_PFX_PASSWORD",
        ],
        ["client"] =
        [
            $"cleave client --server http://127.0.0.1:7070 --split {Split} --images {Images} --limit 20",
            $"cleave client --server http://127.0.0.1:7070 --split {Split} --images {Images} --limit 20 --link lte --check",
            $"cleave client --server http://127.0.0.1:7070 --mode full --images {Images} --limit 20 --json",
        ],
        ["loadtest"] =
        [
            $"cleave loadtest --server http://127.0.0.1:7070 --split {Split} --images {Images} --clients 8 --duration 10",
            $"cleave loadtest --server http://127.0.0.1:7070 --split {Split} --images {Images} --clients 4 --duration 10 --link wifi --json",
        ],
        ["cluster status"] = ["cleave cluster status", "cleave cluster status --server http://127.0.0.1:7070 --json"],
        ["keys"] = ["cleave keys add alice --file artifacts/keys.txt", "cleave keys list --file artifacts/keys.txt", "cleave keys revoke alice --file artifacts/keys.txt"],
        ["generate"] =
        [
            $"cleave generate --model {Lm} --local --prompt \"Once upon a time\"",
            $"cleave generate --model {Lm} --local --split-layer 2 --codec fp16 --prompt \"Once upon a time\"",
            $"cleave generate --model {Lm} --server http://127.0.0.1:50061 --split-layer 2 --prompt \"Once upon a time\"",
        ],
        ["serve-lm"] = [$"cleave serve-lm --model {Lm} --split-layer 2", $"cleave serve-lm --model {Lm} --split-layer 2 --port 50061 --batch-decode on"],
        ["eval-lm"] =
        [
            $"cleave eval-lm --model {Lm} --text {Assets}/llm/tinystories_sample.txt --split-layer 2 --codecs \"raw;fp16;quant:bits=8\" --limit 20",
            $"cleave eval-lm --model {Lm} --text {Assets}/llm/tinystories_sample.txt --limit 20 --plot artifacts/lm.png",
            $"cleave eval-lm --model {Lm} --text {Assets}/llm/tinystories_sample.txt --split-layer 2 --codecs \"tq:levels=24,clip=5;tq:levels=9,clip=4.6,predict=token\"",
        ],
        ["dump"] =
        [
            $"cleave dump {Model} --at {Cut} --images {Images} --limit 20 -o artifacts/features",
            $"cleave dump {Lm} --layer 2 --text {Assets}/llm/tinystories_sample.txt --limit 5 -o artifacts/lm-features",
        ],
        ["codec bench"] = ["cleave codec bench", "cleave codec bench artifacts/features/n01440764_tench.npy --codecs \"raw;fp16;quant:bits=8,entropy=rans\""],
        ["codec encode"] =
        [
            "cleave codec encode artifacts/features/n01440764_tench.npy --codec quant:bits=8,entropy=rans -o artifacts/tench.clv",
            "cleave codec encode artifacts/features/n01440764_tench.npy --codec rans-ifc:bits=3,levels=6,clip=3,ctx=2d -o artifacts/tench.clv --json",
        ],
        ["codec decode"] = ["cleave codec decode artifacts/tench.clv -o artifacts/tench-decoded.npy", "cleave codec decode artifacts/tench.clv -o artifacts/tench-decoded.npy --max-mb 16 --json"],
        ["codec ncols"] = ["cleave codec ncols artifacts/features/n01440764_tench.npy", "cleave codec ncols artifacts/features/n01440764_tench.npy --widths 1-64 --json"],
        ["codec study"] =
        [
            "cleave codec study --sets \"conv5=artifacts/features\" --codecs \"quant+rANS=quant:bits={3,4,5,6,8},entropy=rans;fp16\" --report artifacts/study",
            "cleave codec study --sets \"conv5=artifacts/features\" --codecs \"rans-ifc:bits={2,3,4},ctx=2d\" --report artifacts/study --json",
        ],
        ["plan"] =
        [
            $"cleave plan --model {Model} --data {Images} --link lte --images 32",
            $"cleave plan --model {Model} --data {Images} --sweep-links --images 32",
            $"cleave plan --models \"{Model};artifacts/mnv1_050.onnx\" --data {Images} --link lte --device-speed 0.02 --slo-ms 200 --objective accuracy --images 32",
        ],
        ["plan check"] =
        [
            $"cleave plan check --model {Model} --data {Images} --links wifi,lte --requests 10 --images 32",
            $"cleave plan check --models \"{Model};mnv1.onnx\" --data {Images} --links wifi,ble --thresholds 100,400 --objective accuracy --device-speed 0.02 --planned-device --images 32",
        ],
        ["plan adapt"] = [$"cleave plan adapt --model {Model} --data {Images} --schedule wifi:10,ble:10 --images 32"],
        ["train"] =
        [
            "cleave train classifier --data fashion-mnist --steps 200 -o artifacts/fmnist.onnx",
            "cleave train classifier --data fashion-mnist --steps 500 --augment --checkpoint artifacts/fmnist.ckpt -o artifacts/fmnist.onnx",
        ],
        ["train bottleneck"] =
        [
            $"cleave train bottleneck --model {Model} --at {Cut} --data {Images} -o artifacts/bottleneck --max-steps 20",
            $"cleave train bottleneck --model {Model} --at {Cut} --data {Images} -o artifacts/bottleneck --channels 4 --epochs 2",
            $"cleave train bottleneck --model {Model} --at {Cut} --data {Images} -o artifacts/bottleneck --design residual --views 8 --mix mixup --rate 0.5",
        ],
        ["train adapter"] =
        [
            $"cleave train adapter --split {Split} --model {Model} --data {Images} --shift blur=1.5,noise=4 -o artifacts/adapted --max-steps 20",
            $"cleave train adapter --split {Split} --model {Model} --data {Images} --shift gain=0.7 -o artifacts/adapted --loss distill",
            $"cleave train adapter --split {Split} --model {Model} --data {Images} --shift blur=1,noise=3,gain=0.4 -o artifacts/adapted --loss feature --views 3 --mix mixup --ensemble 3 --val-every 10 --max-seconds 300",
        ],
        ["train exit"] =
        [
            $"cleave train exit --split {Split} --model {Model} --data {Images} --epochs 2",
            $"cleave train exit --split {Split} --model {Model} --data {Images} --eval-data {Images} --hidden 128 --json",
        ],
        ["train gate"] =
        [
            $"cleave train gate --split {Split} --model {Model} --data {Images} --codecs \"rans-ifc:bits=2,levels=4,clip=3,ctx=2d;rans-ifc:bits=3,levels=6,clip=3,ctx=2d\" --epochs 2",
            $"cleave train gate --split {Split} --model {Model} --data {Images} --eval-data {Images} --codecs \"rans-ifc:bits=2,levels=4,clip=3,ctx=2d;rans-ifc:bits=3,levels=6,clip=3,ctx=2d;rans-ifc:bits=4,levels=8,clip=3,ctx=2d\" --max-loss 0.5 --json",
        ],
        ["train error-aware"] =
        [
            $"cleave train error-aware --split {Split} --model {Model} --data {Images} -o artifacts/split5-ber --ber 1e-4,1e-3 --max-seconds 300",
        ],
        ["train exit-cnn"] =
        [
            "cleave train exit-cnn -o artifacts/fmnist-exit --steps 200",
            "cleave train exit-cnn -o artifacts/fmnist-dense --density 1 --width 24 --steps 600 --json",
            "cleave train exit-cnn -o artifacts/fmnist-sparse --density 1/4,1/4,1/3,1/6 --width 24 --steps 600 --teacher artifacts/fmnist-dense/model.onnx",
        ],
        ["train fmnist-grid"] =
        [
            "cleave train fmnist-grid -o artifacts/fmnist-grid --steps 400 --batch 64 --lr 0.003 --seed 1",
            "cleave train fmnist-grid -o artifacts/fmnist-tiny --widths 4 --depths 2 --steps 20 --images 64 --test-limit 500 --json",
        ],
        ["train task-tail"] =
        [
            $"cleave train task-tail --split {Split} --name coarse --data {Images} --wnids {Assets}/vision/imagenet_wnids.txt --wordnet-depth 6 --steps 50",
            $"cleave train task-tail --split {Split} --name coarse --data {Images} --wnids {Assets}/vision/imagenet_wnids.txt --wordnet-depth 6 --eval {Images} --json",
        ],
        ["calibrate"] =
        [
            $"cleave calibrate --model {Model} --at {Cut} --images {Assets}/vision --limit 10",
            $"cleave calibrate --model {Model} --at {Cut} --images {Images} --limit 30 --codec rans-ifc:bits=3,levels=6,clip=3,ctx=2d --json",
        ],
        ["version"] = ["cleave version"],
        ["attack fuzz-frames"] = ["cleave attack fuzz-frames --cases 2000", "cleave attack fuzz-frames --cases 500 --seed 7 --json"],
        ["attack fuzz-protocol"] = [$"cleave attack fuzz-protocol {Split} --cases 500", $"cleave attack fuzz-protocol --lm {Lm} --lm-split-layer 2 --cases 200 --json"],
    };
}
