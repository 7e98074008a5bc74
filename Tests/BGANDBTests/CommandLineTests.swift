import BGAN
import Evaluation
import Foundation
import LMDBStorage
import NeuralNet
import PixelIO
import Testing
import TestSupport
@testable import BGANDB

/// `bgan-db` end to end, as a script would run it: arguments in, stdout / stderr / exit status out.
@Suite struct CommandLineTests {
    let directory = TemporaryDirectory("cli")

    typealias Outcome = CLI.Outcome

    @discardableResult
    func run(_ arguments: String...) throws -> Outcome { try CLI.run(arguments) }

    func run(arguments: [String]) throws -> Outcome { try CLI.run(arguments) }

    func json(_ line: Substring) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    @Test func createPutQueryAsJSON() throws {
        let store = directory.sub("s")
        #expect(try run("create", store, "--bits", "16").status == 0)
        #expect(try run("put", store, "cat", "--code", "00ff", "--payload", "cat.jpg").status == 0)
        #expect(try run("put", store, "dog", "--code", "0f0f").status == 0)
        let query = try run("query", store, "--code", "00fe", "-k", "5", "--json")
        #expect(query.status == 0)
        let lines = query.stdout.split(separator: "\n")
        #expect(lines.count == 2, "one line for the query, one summary")
        let first = try json(lines[0])
        let neighbors = try #require(first["hits"] as? [[String: Any]])
        #expect(neighbors.map { $0["key"] as? String } == ["cat", "dog"])
        #expect(neighbors.map { $0["distance"] as? Int } == [1, 9])
        #expect(neighbors[0]["payload"] as? String == "cat.jpg")
        #expect((first["statistics"] as? [String: Any])?["path"] as? String == "scan")
        #expect(first["query"] as? Int == 0 && first["image"] == nil, "a query by code has no image")
        #expect(try json(lines[1])["summary"] != nil)
        #expect(query.stderr.isEmpty || !query.stderr.contains("error"))
    }

    @Test func importExportRoundTripThroughNumPy() throws {
        let store = directory.sub("s")
        let codes = directory.sub("codes.npy")
        let header = "{'descr': '|u1', 'fortran_order': False, 'shape': (3, 2), }"
        let padded = header + String(repeating: " ", count: 128 - 10 - header.utf8.count - 1) + "\n"
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(padded.utf8.count), 0] + Array(padded.utf8)
        bytes += [0x00, 0xFF, 0x0F, 0x0F, 0xF0, 0xF0]
        try Data(bytes).write(to: URL(fileURLWithPath: codes))
        try "a\nb\nc\n".write(toFile: directory.sub("keys.txt"), atomically: true, encoding: .utf8)
        #expect(try run("create", store, "--bits", "16").status == 0)
        let imported = try run("import", store, "--codes", codes, "--keys", directory.sub("keys.txt"))
        #expect(imported.status == 0)
        #expect(imported.stderr.contains("imported 3 codes"))
        #expect(try run("get", store, "b").stdout == "b\t0f0f\t\n")

        let exported = directory.sub("out.npy")
        #expect(try run("export", store, "--format", "npy", exported).status == 0)
        let data = try Data(contentsOf: URL(fileURLWithPath: exported))
        #expect(Array(data.suffix(6)) == [0x00, 0xFF, 0x0F, 0x0F, 0xF0, 0xF0])
        #expect(try String(contentsOfFile: directory.sub("out.keys.txt"), encoding: .utf8) == "a\nb\nc\n")

        let ndjson = directory.sub("out.ndjson")
        #expect(try run("export", store, "--format", "ndjson", ndjson).status == 0)
        let first = try json(try String(contentsOfFile: ndjson, encoding: .utf8).split(separator: "\n")[0])
        #expect(first["key"] as? String == "a" && first["code_hex"] as? String == "00ff")
        #expect(first["code_u8"] as? [Int] == [0, 255])

        #expect(try run("verify", store).stdout.hasPrefix("ok"))
        let stats = try json(Substring(try run("stats", store, "--json").stdout))
        #expect(stats["items"] as? Int == 3 && stats["bits"] as? Int == 16)
    }

    /// A consumer filled by a full export and synced by `export --since`, through the CLI alone.
    @Test func aChangeLogSyncsThroughExportSince() throws {
        let store = directory.sub("log")
        #expect(try run("create", store, "--bits", "16", "--change-log").status == 0)
        #expect(try run("put", store, "a", "--code", "00ff").status == 0)
        #expect(try run("put", store, "b", "--code", "0f0f").status == 0)
        let full = try json(Substring(try run("export", store, "--format", "ndjson", directory.sub("full.ndjson"), "--json").stdout))
        #expect(full["items"] as? Int == 2 && full["cursor"] as? Int == 2)
        #expect(try run("put", store, "c", "--code", "f0f0").status == 0)
        try "a\nnot-there\n".write(toFile: directory.sub("gone.txt"), atomically: true, encoding: .utf8)
        let deleted = try run("delete", store, "--keys-file", directory.sub("gone.txt"))
        #expect(deleted.status == 0 && deleted.stderr.contains("removed 1 of 2"))
        let delta = try run("export", store, "--format", "ndjson", directory.sub("delta.ndjson"), "--since", "2")
        #expect(delta.status == 0 && delta.stderr.contains("1 removals and 1 upserts") && delta.stderr.contains("--since 4"))
        let lines = try String(contentsOfFile: directory.sub("delta.ndjson"), encoding: .utf8).split(separator: "\n").map { try json($0) }
        #expect(lines.map { $0["op"] as? String } == ["remove", "upsert"])
        #expect(lines[0]["key"] as? String == "a" && lines[1]["key"] as? String == "c" && lines[1]["code_hex"] as? String == "f0f0")
        #expect(try run("changes", store).stdout == "cursor 4, 4 entries, trimmed through 0\n")
        #expect(try run("changes", store, "--trim-through", "4").stdout == "cursor 4, 0 entries, trimmed through 4\n")
        let stale = try run("export", store, "--format", "ndjson", directory.sub("stale.ndjson"), "--since", "2")
        #expect(stale.status != 0 && stale.stderr.contains("changesUnavailable") && stale.stderr.contains("full export"))
        let unlogged = directory.sub("plain")
        #expect(try run("create", unlogged, "--bits", "16").status == 0)
        #expect(try run("changes", unlogged).stdout.hasPrefix("no change log"))
    }

    @Test func anEmptyStoreExportsNoRows() throws {
        let store = directory.sub("empty")
        #expect(try run("create", store, "--bits", "16").status == 0)
        let exported = try run("export", store, "--format", "ndjson", directory.sub("empty.ndjson"))
        #expect(exported.status == 0)
        #expect(exported.stderr.contains("wrote 0 items"))
        #expect(try String(contentsOfFile: directory.sub("empty.ndjson"), encoding: .utf8).isEmpty)
    }

    @Test func writingCommandsTakeADurability() throws {
        let store = directory.sub("durability")
        #expect(try run("create", store, "--bits", "16").status == 0)
        #expect(try run("put", store, "a", "--code", "00ff", "--sync", "none").status == 0)
        #expect(try run("put", store, "b", "--code", "0f0f", "--sync", "no-meta-sync").status == 0)
        #expect(try run("delete", store, "a", "--sync", "full").status == 0)
        let refused = try run("put", store, "c", "--code", "0000", "--sync", "sometimes")
        #expect(refused.status != 0 && refused.stderr.contains("sync"))
        #expect(try run("get", store, "b").stdout == "b\t0f0f\t\n")
        #expect(try run("verify", store).status == 0)
    }

    @Test func errorsSayWhatAndExitNonZero() throws {
        let store = directory.sub("s")
        #expect(try run("create", store, "--bits", "16").status == 0)
        let wrongLength = try run("query", store, "--code", "00", "-k", "1")
        #expect(wrongLength.status == 1)
        #expect(wrongLength.stderr.contains("8-bit code") && wrongLength.stderr.contains("16-bit"))
        #expect(wrongLength.stdout.isEmpty)

        let usage = try run("query", store, "--code", "0000", "-k", "3", "--radius", "2")
        #expect(usage.status == 64)
        #expect(usage.stderr.contains("-k K or --radius R, not both"))
        let noFloor = try run("query", store, "--code", "0000", "--refine-minimum", "0")
        #expect(noFloor.status == 64 && noFloor.stderr.contains("--refine-minimum must be at least 1"), "\(noFloor.stderr)")
        let negativeBand = try run("query", store, "--code", "0000", "--refine-tie-band=-0.1")
        #expect(negativeBand.status == 64 && negativeBand.stderr.contains("--refine-tie-band must be 0 or more"), "\(negativeBand.stderr)")
        for nonsense in ["-0.5", "none", "inf"] {
            let ceiling = try run("query", store, "--code", "0000", "--refine-copy-distance=\(nonsense)")
            #expect(ceiling.status == 64 && ceiling.stderr.contains("--refine-copy-distance"), "\(nonsense): \(ceiling.stderr)")
        }

        let missing = try run("stats", directory.sub("nothing"))
        #expect(missing.status == 1 && missing.stderr.contains("does not exist"))

        let again = try run("create", store, "--bits", "16")
        #expect(again.status == 1 && again.stderr.contains("already holds a store"))
    }

    @Test func verifyExitsThreeOnDamage() throws {
        let store = directory.sub("s")
        #expect(try run("create", store, "--bits", "8").status == 0)
        #expect(try run("put", store, "a", "--code", "01").status == 0)
        #expect(try run("put", store, "b", "--code", "02").status == 0)
        #expect(try run("verify", store).status == 0)
        do {
            // Damage the store behind its back: drop one key.
            let environment = try Environment(path: store, tables: [TableSpec("keys")])
            let keys = try environment.table("keys")
            try environment.write { txn in _ = try txn.delete(keys, key: "a") }
        }
        let damaged = try run("verify", store)
        #expect(damaged.status == 3)
        #expect(damaged.stdout.hasPrefix("DAMAGED"))
        #expect(damaged.stdout.contains("problem: item 0's key 'a' maps to nothing"))
        try FileManager.default.createDirectory(atPath: directory.sub("empty"), withIntermediateDirectories: false)
        let notAStore = try run("verify", directory.sub("empty"))
        #expect(notAStore.status == 1 && notAStore.stderr.contains("not a store"))
    }

    @Test func doctorReportsFastBLASKernels() throws {
        let doctor = try run("doctor", "--json")
        #expect(doctor.status == 0)
        let report = try json(Substring(doctor.stdout))
        let features = report["features"] as? [String] ?? []
        let core = report["blas_core"] as? String
        if features.contains("avx512f"), report["blas_core_chosen_by_user"] as? Bool == false {
            // OpenBLAS picks SkylakeX, Cooperlake or SapphireRapids itself on newer CPUs: any is fast.
            #expect(BLASCore.recommendedCoreType(coreName: core ?? "none", features: Set(features)) == nil,
                    "bgan-db should run fast kernels (relaunching itself if OpenBLAS chose slow ones), not \(core ?? "none")")
        }
        #expect(report["blas_core_recommended"] is NSNull || report["blas_core_chosen_by_user"] as? Bool == true)
        #expect((report["blas_threads"] as? Int ?? 0) >= 1)
        #expect(report["convolution_kernel"] as? String == (features.contains("avx512f") ? "avx512" : "sgemm"))
        if (report["blas_threads"] as? Int ?? 0) > 1, ProcessInfo.processInfo.environment["OPENBLAS_THREAD_TIMEOUT"] == nil {
            #expect(report["blas_thread_timeout"] as? String == BLASCore.idleThreadTimeout, "idle BLAS threads should sleep at once: \(report)")
        }
        let models = report["default_models"] as? [String: Any] ?? [:]
        for bits in ["32", "64"] {
            #expect((models[bits] as? String)?.hasSuffix("fashion-mnist-\(bits).bganmodel") == true, "the bundled \(bits)-bit model is found: \(models)")
        }
    }

    @Test func trainingNamesSlowKernelsTheEnvironmentChose() throws {
        let features = BLASCore.cpuFeatures()
        let pretrain = ["pretrain", "--data", "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", "--limit", "32",
                        "--batch", "16", "--epochs", "1", "--bits", "16"]
        let held = try CLI.run(pretrain + ["--out", directory.sub("haswell.bgan")], environment: ["OPENBLAS_CORETYPE": "Haswell"])
        #expect(held.status == 0, "\(held.stderr)")
        let named = held.stderr.contains("note: OPENBLAS_CORETYPE=Haswell is set in the environment")
        #expect(named == (BLASCore.recommendedCoreType(coreName: "Haswell", features: features) != nil), "\(held.stderr)")
        if let fast = BLASCore.recommendedCoreType(coreName: "Prescott", features: features) {
            let chosenFast = try CLI.run(pretrain + ["--out", directory.sub("fast.bgan")], environment: ["OPENBLAS_CORETYPE": fast])
            #expect(chosenFast.status == 0 && !chosenFast.stderr.contains("OPENBLAS_CORETYPE"), "\(chosenFast.stderr)")
        }
    }

    @Test func trainWritesAModelFileThatParses() throws {
        let model = directory.sub("tiny.bgan")
        let outcome = try run("train", "--recipe", "paper", "--data", "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", "--bits", "16",
                              "--out", model, "--limit", "48", "--batch", "16", "--k1", "5", "--k2", "3",
                              "--epochs", "2", "--filters", "4", "--hidden-units", "16", "--feature-units", "16")
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let file = try ModelFile(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: model))))
        #expect(file.header.architecture.bits == 16)
        #expect(file.header.preprocessing.height == 28)
        #expect(outcome.stderr.contains(file.digest))
        let bad = try run("train", "--data", "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", "--bits", "12", "--out", model)
        #expect(bad.status == 64)
    }

    /// What a resumed run says it leaves out: every option but the images and the files, once each,
    /// in the order given, with `--name=value` and `--name value` alike.
    @Test func aResumedRunNamesTheOptionsItDoesNotApply() {
        let ignored = TrainingRunFileOptions.ignoredWhenResuming(
            ["--data", "x.idx", "--limit", "90", "--out", "m", "--epochs", "9", "--resume", "c", "--lr=0.01", "--checkpoint", "c",
             "--loss-curve", "l.svg", "--geometry", "1x28x28", "--epochs", "10", "--dissimilar-target", "-1", "--no-views"])
        #expect(ignored == ["--epochs", "--lr", "--dissimilar-target", "--no-views"])
        #expect(TrainingRunFileOptions.ignoredWhenResuming(["--data", "x", "--out", "m", "--resume", "c"]).isEmpty)
    }

    /// The encoder's rate from the command line: the recommended recipe's half of --lr at 64 bits
    /// (of a changed --lr too), one rate at 32 bits and in the paper's recipe, --encoder-lr over
    /// either.
    @Test func theEncoderRateFollowsTheRecipeUnlessGiven() throws {
        let common = ["--data", "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", "--out", directory.sub("rates.bgan")]
        func rate(_ options: [String]) throws -> Float? { try TrainCommand.parse(common + options).plan().effectiveEncoderLearningRate }
        #expect(try rate(["--bits", "64"]) == 5e-4)
        #expect(try rate(["--bits", "64", "--lr", "0.002"]) == 1e-3)
        #expect(try rate(["--bits", "32"]) == nil)
        #expect(try rate(["--bits", "64", "--recipe", "paper"]) == nil)
        #expect(try rate(["--bits", "64", "--encoder-lr", "0.001"]) == 1e-3)
        #expect(try rate(["--bits", "32", "--encoder-lr", "0.0005"]) == 5e-4)
    }

    /// `--view-contrast`, `--view-rotation`, `--view-noise` and `--view-black-corners` reach both
    /// stages' views and `--view-brightness` the BGAN stage's; a run with no views of its own to change, or a value
    /// out of range, is refused before any training.
    @Test func viewContrastAndRotationReachBothStages() throws {
        let common = ["--data", "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", "--out", directory.sub("views.bgan")]
        let plan = try TrainCommand.parse(common + ["--view-contrast", "0.3", "--view-rotation", "5"]).plan()
        #expect(plan.pretraining?.augmentation.contrast == 0.3 && plan.pretraining?.augmentation.rotation == 5)
        #expect(plan.views?.contrast == 0.3 && plan.views?.rotation == 5)
        #expect(plan.views?.blackCorners == 0 && plan.pretraining?.augmentation.blackCorners == 0)
        let cornered = try TrainCommand.parse(common + ["--view-rotation", "5", "--view-black-corners", "0.5"]).plan()
        #expect(cornered.views?.blackCorners == 0.5 && cornered.pretraining?.augmentation.blackCorners == 0.5)
        let quieter = try TrainCommand.parse(common + ["--view-noise", "0.01"]).plan()
        #expect(quieter.views?.noise == 0.01 && quieter.pretraining?.augmentation.noise == 0.01)
        #expect(quieter.views?.brightness == ViewAugmentation.nearDuplicate.brightness, "the rest of the views as the recipe's")
        #expect(throws: (any Error).self) { try TrainCommand.parse(common + ["--view-noise", "0.6"]) }
        let brighter = try TrainCommand.parse(common + ["--view-brightness", "0.35"]).plan()
        #expect(brighter.views?.brightness == 0.35 && brighter.pretraining?.augmentation.brightness == ViewAugmentation().brightness,
                "--view-brightness sets the BGAN stage's views only")
        #expect(throws: (any Error).self) { try TrainCommand.parse(common + ["--view-brightness", "1"]) }
        let noStageTwoViews = try run(arguments: ["train"] + common + ["--no-views", "--view-brightness", "0.3"])
        #expect(noStageTwoViews.status == 64 && noStageTwoViews.stderr.contains("BGAN stage has none"), "\(noStageTwoViews.stderr)")
        let unturned = try run(arguments: ["train"] + common + ["--view-black-corners", "0.5"])
        #expect(unturned.status == 64 && unturned.stderr.contains("their rotation is 0"), "\(unturned.stderr)")
        let unchanged = try TrainCommand.parse(common).plan()
        #expect(unchanged.views == .nearDuplicate && unchanged.pretraining?.augmentation == ViewAugmentation())
        #expect(throws: (any Error).self) { try TrainCommand.parse(common + ["--view-contrast", "1.5"]) }
        #expect(throws: (any Error).self) { try TrainCommand.parse(common + ["--view-rotation", "90"]) }
        let noViews = try run(arguments: ["train"] + common + ["--recipe", "paper", "--view-rotation", "5"])
        #expect(noViews.status == 64 && noViews.stderr.contains("this run has none"), "\(noViews.stderr)")
        let noViewsToQuiet = try run(arguments: ["train"] + common + ["--recipe", "paper", "--view-noise", "0.01"])
        #expect(noViewsToQuiet.status == 64 && noViewsToQuiet.stderr.contains("this run has none"), "\(noViewsToQuiet.stderr)")
    }

    static let testImages = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"
    /// Both stages of the recommended recipe on 64 images with tiny networks: seconds.
    static let tinyRecommendedRun = ["--limit", "64", "--bits", "16", "--batch", "16", "--k1", "5", "--k2", "3", "--filters", "4",
                                     "--hidden-units", "16", "--feature-units", "16", "--epochs", "1", "--pretrain-epochs", "1"]

    /// `--standardise-input` gives both stages' encoders a standardised input: the model file
    /// says so (format version 3), and a stage 1 left without it is not reused.
    @Test func standardisedInputReachesBothStagesAndTheModelFile() throws {
        let (data, small) = (Self.testImages, Self.tinyRecommendedRun)
        let model = directory.sub("standardised.bgan")
        let plain = try run(arguments: ["train", "--data", data, "--out", model] + small)
        #expect(plain.status == 0, "\(plain.stderr)")
        let mismatched = try run(arguments: ["train", "--data", data, "--out", model, "--standardise-input"] + small)
        #expect(mismatched.status == 1 && mismatched.stderr.contains("is left from a pre-training with a raw input (not standardised), and this run's has a standardised input"), "\(mismatched.stderr)")
        let plainStageOne = directory.sub("plain-stage-1.bganmodel")
        try FileManager.default.moveItem(atPath: model + ".pretrained.bganmodel", toPath: plainStageOne)
        let givenPlain = try run(arguments: ["train", "--data", data, "--out", directory.sub("other.bgan"), "--standardise-input",
                                             "--pretrained", plainStageOne] + small)
        #expect(givenPlain.status != 0 && givenPlain.stderr.contains("does not standardise its input and this run does"), "\(givenPlain.stderr)")
        let standardised = try run(arguments: ["train", "--data", data, "--out", model, "--standardise-input", "--view-rotation", "5",
                                               "--view-black-corners", "0.5", "--view-captions", "0.5"] + small)
        #expect(standardised.status == 0, "\(standardised.stderr)")
        let trainedViews = try ModelFile(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: model)))).header.training["views"]
        #expect(trainedViews?.hasSuffix(", rotation 5.0, black corners 0.5, captions 0.5") == true, "the BGAN stage's views in the notes: \(trainedViews ?? "none")")
        for path in [model, model + ".pretrained.bganmodel"] {
            let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
            let file = try ModelFile(bytes: bytes)
            #expect(file.header.architecture.standardizesInput && bytes[8] == 3, "\(path)")
        }
        // pretrain takes the same settings for stage 1 alone.
        let stageOne = directory.sub("stage-1.bganmodel")
        let pretrained = try run(arguments: ["pretrain", "--data", data, "--limit", "64", "--bits", "16", "--batch", "16", "--filters", "4",
                                             "--hidden-units", "16", "--epochs", "1", "--standardise-input", "--contrast", "0.3",
                                             "--rotation", "5", "--black-corners", "0.5", "--captions", "0.5", "--out", stageOne])
        #expect(pretrained.status == 0, "\(pretrained.stderr)")
        let stageOneFile = try ModelFile(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: stageOne))))
        #expect(stageOneFile.header.architecture.standardizesInput)
        #expect(stageOneFile.header.training["views"]?.hasSuffix(", contrast ±0.3, rotation ±5.0°, black corners p 0.5, captions p 0.5") == true, "\(stageOneFile.header.training)")
    }

    /// `--robust-standardisation` reaches both stages' encoders and their files (format version
    /// 4); it needs `--standardise-input`, and a stage 1 standardised the other way is not reused.
    @Test func robustStandardisationReachesBothStagesAndTheModelFile() throws {
        let (data, small) = (Self.testImages, Self.tinyRecommendedRun)
        let model = directory.sub("robust.bgan")
        let unstandardised = try run(arguments: ["train", "--data", data, "--out", model, "--robust-standardisation"] + small)
        #expect(unstandardised.status != 0 && unstandardised.stderr.contains("give --standardise-input too"), "\(unstandardised.stderr)")
        #expect(!FileManager.default.fileExists(atPath: model + ".pretrained.bganmodel"), "refused before any training")
        let robust = try run(arguments: ["train", "--data", data, "--out", model, "--standardise-input", "--robust-standardisation"] + small)
        #expect(robust.status == 0, "\(robust.stderr)")
        for path in [model, model + ".pretrained.bganmodel"] {
            let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
            let architecture = try ModelFile(bytes: bytes).header.architecture
            #expect(architecture.standardizesInput && architecture.standardizesRobustly && bytes[8] == 4, "\(path)")
        }
        let plainStandardised = try run(arguments: ["train", "--data", data, "--out", model, "--standardise-input"] + small)
        #expect(plainStandardised.status != 0 && plainStandardised.stderr.contains(
            "is left from a pre-training with a robustly standardised input (winsorised, clipped), and this run's has a standardised input (mean and deviation)"),
                "\(plainStandardised.stderr)")
        let stageOne = directory.sub("robust-stage-1.bganmodel")
        let pretrained = try run(arguments: ["pretrain", "--data", data, "--limit", "64", "--bits", "16", "--batch", "16", "--filters", "4",
                                             "--hidden-units", "16", "--epochs", "1", "--standardise-input", "--robust-standardisation",
                                             "--out", stageOne])
        #expect(pretrained.status == 0, "\(pretrained.stderr)")
        #expect(try ModelFile(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: stageOne)))).header.architecture.standardizesRobustly)
        let givenRobust = try run(arguments: ["train", "--data", data, "--out", directory.sub("other-standardisation.bgan"), "--standardise-input",
                                              "--pretrained", stageOne] + small)
        #expect(givenRobust.status != 0 && givenRobust.stderr.contains(
            "has a robustly standardised input (winsorised, clipped) and this run a standardised input (mean and deviation)"), "\(givenRobust.stderr)")
    }

    /// `train --data --bits --out` alone runs the recommended recipe: pre-training into
    /// OUT.pretrained.bganmodel, then BGAN on its layers with codes in two parts; a second run
    /// reuses the pre-trained model; the paper's recipe does not pre-train.
    @Test func oneCommandTrainsTheRecommendedRecipe() throws {
        let (data, small) = (Self.testImages, Self.tinyRecommendedRun)
        let model = directory.sub("recommended.bgan")
        let first = try run(arguments: ["train", "--data", data, "--out", model] + small)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stderr.contains("stage 1 of 2: contrastive pre-training") && first.stderr.contains("stage 2 of 2: BGAN"), "\(first.stderr)")
        let pretrained = try ModelFile(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: model + ".pretrained.bganmodel"))))
        let file = try ModelFile(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: model))))
        let notes = file.header.training
        #expect(notes["recipe"] == "recommended" && notes["pretrained"] == pretrained.digest && notes["initial_encoder"] == pretrained.digest)
        #expect(notes["encoder_learning_rate"] == nil, "16-bit codes train the encoder at --lr: \(notes)")
        #expect(notes["pretraining.stage"] == "contrastive pre-training" && notes["pretraining.epochs"] == "1", "stage 1's settings travel too: \(notes)")
        #expect(notes["pretraining.neighbour_partners"] == "0.5 of second views show one of the 5 nearest neighbours in pixels",
                "the recommended recipe's stage 1 takes pixel-space partners: \(notes)")
        #expect(pretrained.header.architecture.bits == 64 && file.header.architecture.bits == 16, "stage 1 projects to 64 bits whatever the code length")
        #expect(notes["weights"]?.contains("listwise 1.0 on the first 10 bits") == true && notes["anchor_codes"] == nil
                && notes["neighbours_from"] == "hidden:" + pretrained.digest && notes["code_layer"] != nil,
                "and its BGAN stage trains a fresh code in two parts on stage 1's layers: \(notes)")
        #expect(notes["similarity"] == TrainingRecipe.recommended.similarity.description && notes["sampling"] == "neighbours-and-views")
        #expect(notes["views"]?.contains("noise") == true && notes["generative_images"] != nil && notes["weights"]?.contains("adversarial 1.0") == true,
                "the whole objective, with views: \(notes)")
        let second = try run(arguments: ["train", "--data", data, "--out", model] + small)
        #expect(second.status == 0 && second.stderr.contains("reusing the pre-trained model"), "\(second.stderr)")
        #expect(pretrained.header.training["images"] == "64", "stage 1 notes how many images it saw: \(pretrained.header.training)")
        let fewer = try run(arguments: ["train", "--data", data, "--out", model] + small.map { $0 == "64" ? "48" : $0 })
        #expect(fewer.status == 1 && fewer.stderr.contains("another number of its images"), "a stage 1 of 64 images is not reused for 48: \(fewer.stderr)")
        let otherStageOne = try run(arguments: ["train", "--data", data, "--out", model, "--pretrain-partners", "none"] + small)
        #expect(otherStageOne.status == 1 && otherStageOne.stderr.contains("other neighbour partners"), "\(otherStageOne.stderr)")
        let paper = try run(arguments: ["train", "--recipe", "paper", "--data", data, "--out", directory.sub("paper.bgan")] + small.dropLast(2))
        #expect(paper.status == 0 && !paper.stderr.contains("pre-training"), "\(paper.stderr)")
        let paperNotes = try ModelFile(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: directory.sub("paper.bgan"))))).header.training
        #expect(paperNotes["recipe"] == "paper" && paperNotes["similarity"] == "neighbours" && paperNotes["views"] == nil && paperNotes["sampling"] == "shuffled")
        let mixed = try run(arguments: ["train", "--recipe", "paper", "--pretrained", model + ".pretrained.bganmodel", "--data", data, "--out", model] + small.dropLast(2))
        #expect(mixed.status == 64 && mixed.stderr.contains("belong to the recommended recipe"), "\(mixed.stderr)")
        let partnered = directory.sub("views-only.bgan")
        let withPartners = try run(arguments: ["train", "--data", data, "--out", partnered, "--pretrain-partners", "none", "--encoder-lr", "0.002"] + small)
        #expect(withPartners.status == 0, "\(withPartners.stderr)")
        let partneredNotes = try ModelFile(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: partnered)))).header.training
        #expect(partneredNotes["pretraining.neighbour_partners"] == nil && partneredNotes["weights"]?.contains("anchor") == false,
                "none turns the recipe's partners off: \(partneredNotes)")
        #expect(partneredNotes["encoder_learning_rate"] == "0.002" && partneredNotes["learning_rate"] == "0.001", "\(partneredNotes)")
        let stalled = try run(arguments: ["train", "--data", data, "--out", partnered, "--encoder-lr", "0"] + small)
        #expect(stalled.status == 64 && stalled.stderr.contains("encoder learning rate 0.0"), "\(stalled.stderr)")
        let longer = try run(arguments: ["train", "--data", data, "--out", model] + small.map { $0 == "1" ? "2" : $0 })
        #expect(longer.status == 1 && longer.stderr.contains("1 epochs") && longer.stderr.contains("2 are asked for"), "a stage 1 of 1 epoch is not reused for 2: \(longer.stderr)")
        let anchoredFresh = try run(arguments: ["train", "--data", data, "--out", partnered, "--anchor-weight", "2"] + small)
        #expect(anchoredFresh.status == 64 && anchoredFresh.stderr.contains("--no-fresh-code-layer"), "\(anchoredFresh.stderr)")
        let scratch = directory.sub("scratch.bgan")
        let fromScratch = try run(arguments: ["train", "--data", data, "--out", scratch, "--initial-encoder", "none"] + small)
        #expect(fromScratch.status == 0, "random starting weights have no layers to keep, so the recipe's kept layers and fresh code layer go: \(fromScratch.stderr)")
        let scratchNotes = try ModelFile(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: scratch)))).header.training
        #expect(scratchNotes["initial_encoder"] == nil && scratchNotes["trained_encoder_layers"] == nil && scratchNotes["code_layer"] == nil, "\(scratchNotes)")
        let contradiction = try run(arguments: ["train", "--data", data, "--out", scratch, "--initial-encoder", "none", "--anchor-weight", "2"] + small)
        #expect(contradiction.status == 64 && contradiction.stderr.contains("--anchor-weight"), "\(contradiction.stderr)")
        let badPartners = try run(arguments: ["train", "--data", data, "--out", partnered, "--pretrain-partners", "colours"] + small)
        #expect(badPartners.status == 64 && badPartners.stderr.contains("--pretrain-partners takes none or"), "\(badPartners.stderr)")
        let split = directory.sub("split.bgan")
        let twoParts = try run(arguments: ["train", "--data", data, "--out", split, "--listwise-bits", "8", "--listwise-weight", "2",
                                             "--listwise-quantization-weight", "0"] + small)
        #expect(twoParts.status == 0 && twoParts.stderr.contains("listwise"), "the listwise term's loss is in the progress lines: \(twoParts.stderr)")
        let splitNotes = try ModelFile(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: split)))).header.training
        #expect(splitNotes["weights"]?.contains("listwise 2.0 on the first 8 bits at temperature 0.2, quantisation 0.0 on those bits") == true, "\(splitNotes)")
        let wholeCode = try run(arguments: ["train", "--data", data, "--out", split, "--listwise-bits", "16"] + small)
        #expect(wholeCode.status == 64 && wholeCode.stderr.contains("must leave between 1 and 15"), "\(wholeCode.stderr)")
        let unpaired = try run(arguments: ["train", "--data", data, "--out", split, "--listwise-bits", "8", "--sampling", "shuffled"] + small)
        #expect(unpaired.status == 64 && unpaired.stderr.contains("needs neighbour sampling"), "\(unpaired.stderr)")
    }

    /// S from principal components smoothed over the neighbour graph trains (with a negative
    /// value given as a separate argument); a malformed feature space is refused by name before
    /// any training.
    @Test func trainTakesSmoothedFeatureSpaces() throws {
        let model = directory.sub("smoothed.bgan")
        let common = ["train", "--recipe", "paper", "--data", "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", "--bits", "16", "--out", model,
                      "--limit", "48", "--batch", "16", "--k1", "5", "--k2", "3", "--epochs", "1", "--filters", "4", "--hidden-units", "16",
                      "--feature-units", "16"]
        let outcome = try run(arguments: common + ["--neighbours-from", "smoothed:8:3", "--dissimilar-target", "-0.5"])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stderr.contains("from smoothed:8:3 (8 dimensions"))
        for spec in ["smoothed:0:3", "smoothed:8", "smoothed:8:-1", "pixels+pixels:0", "model:"] {
            let bad = try run(arguments: common + ["--neighbours-from", spec])
            #expect(bad.status == 64, "\(spec)")
            #expect(bad.stderr.contains("smoothed:DIMENSIONS:STEPS"), "\(spec): \(bad.stderr)")
        }
        let tooMany = try run(arguments: common + ["--neighbours-from", "smoothed:900:2"])
        #expect(tooMany.status == 1)
        #expect(tooMany.stderr.contains("900 principal components asked of images with 784 values"), "\(tooMany.stderr)")
    }

    /// The two-stage recipe: a contrastive pre-training writes a model; train builds S from its
    /// outputs, takes cosines of their spectral embedding as targets, and starts from its weights.
    /// encode --real-valued prints the outputs whose signs are the codes.
    @Test func pretrainFeedsTrainWithFeaturesTargetsAndWeights() throws {
        let data = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"
        let shape = ["--bits", "16", "--limit", "64", "--filters", "4"], tiny = shape + ["--hidden-units", "16"]
        let pretrained = directory.sub("pre.bgan")
        let pretraining = try run(arguments: ["pretrain", "--data", data, "--out", pretrained, "--batch", "16", "--epochs", "2"] + tiny)
        #expect(pretraining.status == 0, "\(pretraining.stderr)")
        #expect(pretraining.stderr.contains("epoch 2/2 done") && FileManager.default.fileExists(atPath: pretrained + ".losses.svg"))
        let file = try ModelFile(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: pretrained))))
        #expect(file.header.training["stage"] == "contrastive pre-training")
        // Resuming the finished run's last checkpoint writes the same model.
        let again = directory.sub("again.bgan")
        let resumed = try run(arguments: ["pretrain", "--data", data, "--limit", "64", "--out", again, "--resume", pretrained + ".checkpoint"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try ModelFile(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: again)))).digest == file.digest)

        let model = directory.sub("two-stage.bgan")
        let stage = ["train", "--recipe", "paper", "--data", data, "--out", model, "--batch", "16", "--epochs", "1", "--k1", "5", "--k2", "3", "--feature-units", "16",
                     "--neighbours-from", "model:" + pretrained] + shape
        let common = stage + ["--hidden-units", "16"]
        let trained = try run(arguments: common + ["--similarity", "spectral:4", "--initial-encoder", pretrained])
        #expect(trained.status == 0, "\(trained.stderr)")
        #expect(trained.stderr.contains("spectral embedding of 4 dimensions"))
        let trainedFile = try ModelFile(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: model))))
        #expect(trainedFile.header.training["similarity"] == "spectral:4" && trainedFile.header.training["initial_encoder"] == file.digest)
        // A new code layer on the pre-trained layers, which stay as they were. A learning rate
        // too small to move any weight shows where each one started: the code layer where the
        // seed draws it, every layer below where the starting model has it.
        let headOnly = directory.sub("head-only.bgan")
        let head = try run(arguments: common.map { $0 == model ? headOnly : $0 }
                           + ["--initial-encoder", pretrained, "--code-layer-only", "--fresh-code-layer", "--lr", "1e-30", "--seed", "7"])
        #expect(head.status == 0, "\(head.stderr)")
        let headFile = try ModelFile(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: headOnly))))
        #expect(headFile.header.training["trained_encoder_layers"] != nil && headFile.header.training["code_layer"] != nil, "\(headFile.header.training)")
        let before = try file.networks().encoderParameters, after = try headFile.networks().encoderParameters
        let drawn = try BGANNetworks(architecture: headFile.header.architecture, seed: 7).encoderParameters
        for entry in after.entries where entry.trainable {
            let range = entry.offset..<(entry.offset + entry.count)
            if entry.name.hasPrefix(BGANNetworks.encoderCodeLayer) {
                #expect(zip(after.values[range], drawn.values[range]).allSatisfy { abs($0 - $1) <= 1e-6 }, "\(entry.name) starts as drawn")
            } else {
                #expect(after.values[range] == before.values[range], "\(entry.name) kept")
            }
        }
        // A fresh code layer may have another length than the starting encoder's; a kept one may not.
        let longer = directory.sub("longer.bgan")
        let otherLength = try run(arguments: common.map { $0 == model ? longer : $0 } + ["--bits", "24", "--initial-encoder", pretrained, "--fresh-code-layer"])
        #expect(otherLength.status == 0, "\(otherLength.stderr)")
        let longerFile = try ModelFile(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: longer))))
        #expect(longerFile.header.architecture.bits == 24 && file.header.architecture.bits == 16)
        let keptLength = try run(arguments: common.map { $0 == model ? longer : $0 } + ["--bits", "24", "--initial-encoder", pretrained])
        #expect(keptLength.status == 1 && keptLength.stderr.contains("another code length only with a fresh code layer"), "\(keptLength.stderr)")
        // A model of codes in two parts has its bits interleaved: a listwise run cannot continue its code layer.
        let twoParts = directory.sub("two-parts.bgan"), listwise = ["--listwise-bits", "8", "--sampling", "neighbours"]
        let firstParts = try run(arguments: common.map { $0 == model ? twoParts : $0 } + ["--initial-encoder", pretrained] + listwise)
        #expect(firstParts.status == 0, "\(firstParts.stderr)")
        let continued = try run(arguments: common.map { $0 == model ? longer : $0 } + ["--initial-encoder", twoParts] + listwise)
        #expect(continued.status == 1 && continued.stderr.contains("interleaved"), "\(continued.stderr)")
        let anchored = try run(arguments: common.map { $0 == model ? headOnly : $0 } + ["--initial-encoder", pretrained, "--fresh-code-layer", "--anchor-weight", "2"])
        #expect(anchored.status == 64 && anchored.stderr.contains("anchor"), "\(anchored.stderr)")
        // Anchored to the starting encoder's codes, which the model file names by that encoder's digest.
        let anchoredModel = directory.sub("anchored.bgan")
        let anchoredRun = try run(arguments: common.map { $0 == model ? anchoredModel : $0 } + ["--initial-encoder", pretrained, "--anchor-weight", "2"])
        #expect(anchoredRun.status == 0, "\(anchoredRun.stderr)")
        let anchorNote = try ModelFile(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: anchoredModel)))).header.training["anchor_codes"]
        let startDigest = try ModelFile(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: pretrained)))).digest
        #expect(anchorNote == "signs of the outputs of model \(startDigest)", "\(String(describing: anchorNote))")
        let strayWeight = try run(arguments: common.map { $0 == model ? headOnly : $0 } + ["--listwise-weight", "2"])
        #expect(strayWeight.status == 64 && strayWeight.stderr.contains("--listwise-bits"), "\(strayWeight.stderr)")
        let strayQuantization = try run(arguments: common.map { $0 == model ? headOnly : $0 } + ["--listwise-quantization-weight", "0"])
        #expect(strayQuantization.status == 64 && strayQuantization.stderr.contains("--listwise-bits"), "\(strayQuantization.stderr)")
        for spec in ["spectral:0", "spectral:x", "cosines"] {
            let bad = try run(arguments: common + ["--similarity", spec])
            #expect(bad.status == 64 && bad.stderr.contains("spectral:DIMENSIONS"), "\(spec): \(bad.stderr)")
        }
        let fromHidden = try run(arguments: common.map { $0 == "model:" + pretrained ? "hidden:" + pretrained : $0 })
        #expect(fromHidden.status == 0 && fromHidden.stderr.contains("from hidden:\(pretrained) (16 dimensions"), "\(fromHidden.stderr)")
        let joined = try run(arguments: common.map { $0 == "model:" + pretrained ? "model:\(pretrained)+pixels:0.5" : $0 })
        #expect(joined.status == 0 && joined.stderr.contains("+pixels:0.5 (800 dimensions"), "16 outputs and 784 pixels: \(joined.stderr)")
        #expect(try ModelFile(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: model)))).header.training["neighbours_from"]
                == "model:\(try ModelFile(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: pretrained)))).digest)+pixels:0.5",
                "a model file names the models it was trained from by their digests, not by where they lay")
        let partnered = directory.sub("partnered.bgan")
        let withPartners = try run(arguments: ["pretrain", "--data", data, "--out", partnered, "--batch", "16", "--epochs", "1",
                                               "--neighbour-partners", "pixels", "--neighbour-partner-share", "0.25"] + tiny)
        #expect(withPartners.status == 0 && withPartners.stderr.contains("nearest neighbours of every image in pixels"), "\(withPartners.stderr)")
        let partneredFile = try ModelFile(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: partnered))))
        #expect(partneredFile.header.training["neighbour_partners"] == "0.25 of second views show one of the 5 nearest neighbours in pixels")
        let badPartners = try run(arguments: ["pretrain", "--data", data, "--out", partnered, "--neighbour-partners", "pixel"] + tiny)
        #expect(badPartners.status == 64 && badPartners.stderr.contains("model:FILE"), "\(badPartners.stderr)")
        let otherWidth = try run(arguments: stage + ["--hidden-units", "8", "--initial-encoder", pretrained])
        #expect(otherWidth.status != 0 && otherWidth.stderr.contains("another architecture"), "\(otherWidth.stderr)")

        let codes = try run("encode", "--model", model, "--limit", "4", data)
        let outputs = try run("encode", "--model", model, "--limit", "4", "--real-valued", data)
        #expect(codes.status == 0 && outputs.status == 0, "\(outputs.stderr)")
        let json = try run("encode", "--model", model, "--limit", "1", "--real-valued", "--json", data)
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect((object?["h"] as? [Double])?.count == 16 && object?["index"] as? Int == 0, "\(json.stdout)")
        let hidden = try run("encode", "--model", model, "--limit", "2", "--hidden-layer", data)
        #expect(hidden.status == 0 && hidden.stdout.split(separator: "\n").allSatisfy { $0.split(separator: "\t").dropLast().compactMap { Float($0) }.count == 16 },
                "16 hidden units: \(hidden.stdout.prefix(300))")
        let hiddenJSON = try run("encode", "--model", model, "--limit", "1", "--hidden-layer", "--json", data)
        let hiddenObject = try JSONSerialization.jsonObject(with: Data(hiddenJSON.stdout.utf8)) as? [String: Any]
        #expect((hiddenObject?["hidden"] as? [Double])?.count == 16 && hiddenObject?["h"] == nil, "\(hiddenJSON.stdout)")
        let both = try run("encode", "--model", model, "--real-valued", "--hidden-layer", data)
        #expect(both.status == 64 && both.stderr.contains("choose one"), "\(both.stderr)")
        for (codeLine, outputLine) in zip(codes.stdout.split(separator: "\n"), outputs.stdout.split(separator: "\n")) {
            let values = outputLine.split(separator: "\t").dropLast().compactMap { Float($0) }
            #expect(values.count == 16)
            let hex = values.map { $0 > 0 ? "1" : "0" }.joined()
            let expected = String(UInt16(hex, radix: 2)!, radix: 16)
            #expect(codeLine.split(separator: "\t").first.map { String($0) } == String(repeating: "0", count: 4 - expected.count) + expected)
        }
    }

    /// Ctrl-C writes a checkpoint and exits 130; --resume then ends with the very model an
    /// uninterrupted run writes; encode prints that model's codes.
    @Test func anInterruptedTrainingResumesToTheSameModel() throws {
        let data = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"
        let common = ["train", "--recipe", "paper", "--data", data, "--bits", "16", "--limit", "96", "--batch", "16", "--epochs", "16", "--k1", "5", "--k2", "3",
                      "--filters", "4", "--hidden-units", "16", "--feature-units", "16"]
        let whole = directory.sub("whole.bgan"), parts = directory.sub("parts.bgan"), checkpoint = directory.sub("parts.ckpt")
        let straight = try run(arguments: common + ["--out", whole])
        #expect(straight.status == 0, "\(straight.stderr)")
        #expect(FileManager.default.fileExists(atPath: whole + ".losses.svg"))

        let process = Process()
        process.executableURL = CLI.executable
        process.arguments = common + ["--out", parts, "--checkpoint", checkpoint]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // The run says when its first epoch (and that epoch's checkpoint) is done; then Ctrl-C.
        var progress = LineReader(err.fileHandleForReading)
        let firstEpoch = progress.next(where: { $0.hasPrefix("epoch 1/16 done") })
        #expect(firstEpoch?.contains(checkpoint) == true, "the first epoch ends with its checkpoint: \(firstEpoch ?? "no such line")")
        process.interrupt()
        let stderr = progress.remainder()
        process.waitUntilExit()
        #expect(process.terminationStatus == 130, "\(stderr)")
        #expect(stderr.contains("--resume \(checkpoint)"))
        #expect(!FileManager.default.fileExists(atPath: parts), "no model before the run ends")

        let resumed = try run(arguments: ["train", "--data", data, "--limit", "96", "--out", parts, "--resume", checkpoint, "--checkpoint", checkpoint])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("resuming"))
        #expect(!resumed.stderr.contains("not applied"), "only the files were given beside --resume")
        let a = try ModelFile(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: whole))))
        let b = try ModelFile(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: parts))))
        #expect(a.digest == b.digest, "resumed training must equal uninterrupted training")

        let wrongData = try run(arguments: ["train", "--data", data, "--limit", "90", "--out", parts, "--resume", checkpoint])
        #expect(wrongData.status == 1 && wrongData.stderr.contains("same --data, --limit"), "\(wrongData.stderr)")
        // Options that would change the run are named as not applied before anything runs.
        let lengthened = try run(arguments: ["train", "--data", data, "--limit", "90", "--out", parts, "--epochs", "9", "--lr=0.01", "--resume", checkpoint])
        #expect(lengthened.stderr.contains("--epochs, --lr given here are not applied"), "\(lengthened.stderr)")

        let encoded = try run("encode", "--model", whole, "--limit", "3", data)
        #expect(encoded.status == 0, "\(encoded.stderr)")
        let lines = encoded.stdout.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines.allSatisfy { $0.split(separator: "\t").first?.count == 4 }, "16 bits = 4 hex digits: \(lines)")
        #expect(lines.first?.hasSuffix("#0") == true)
        let json = try run("encode", "--model", whole, "--limit", "1", "--json", data)
        let encodedLine = try self.json(Substring(json.stdout))
        #expect(encodedLine["code"] as? String == lines.first?.split(separator: "\t").first.map(String.init), "the code of the plain output: \(json.stdout)")
        #expect(encodedLine["index"] as? Int == 0 && encodedLine["input"] as? String == data)

        // A folder of image files: the decodable ones are encoded, the damaged ones reported.
        let images = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fixtures/images").path
        let folder = try run("encode", "--model", whole, images)
        let encodedFiles = folder.stdout.split(separator: "\n").map { String($0.split(separator: "\t").last ?? "") }
        #expect(encodedFiles.count == 14, "\(encodedFiles)")
        #expect(encodedFiles.contains { $0.hasSuffix("/palette.png") } && encodedFiles.contains { $0.hasSuffix("/gray.jpg") })
        #expect(folder.status == 1 && folder.stderr.contains("7 file(s) could not be encoded"), "\(folder.stderr)")
        #expect(folder.stderr.contains("broken-zero.png") && folder.stderr.contains("broken-huge.png"))
    }

    /// A CIFAR-10 batch trains an RGB model, and eval reads the labels the batch holds.
    @Test func cifarBatchesTrainEncodeAndEvaluate() throws {
        // 40 images of two kinds (label 0: bright left half in red; label 1: bright right half in blue).
        var bytes: [UInt8] = []
        var rng = SystemRandomNumberGenerator()
        for i in 0..<40 {
            let kind = i % 2
            bytes.append(UInt8(kind))
            for channel in 0..<3 {
                for _ in 0..<32 {
                    for x in 0..<32 {
                        let lit = (kind == 0 && channel == 0 && x < 16) || (kind == 1 && channel == 2 && x >= 16)
                        bytes.append(UInt8(lit ? 200 + Int.random(in: 0..<40, using: &rng) : Int.random(in: 0..<40, using: &rng)))
                    }
                }
            }
        }
        let batch = directory.sub("data_batch_1.bin"), model = directory.sub("rgb.bgan")
        try Data(bytes).write(to: URL(fileURLWithPath: batch))
        let trained = try run("train", "--recipe", "paper", "--data", batch, "--bits", "16", "--out", model, "--batch", "8", "--epochs", "2", "--k1", "4", "--k2", "2",
                              "--filters", "2", "--hidden-units", "8", "--feature-units", "8")
        #expect(trained.status == 0, "\(trained.stderr)")
        let file = try ModelFile(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: model))))
        #expect(file.header.architecture.channels == 3 && file.header.preprocessing.height == 32)
        let evaluated = try run("eval", "--model", model, "--database", batch, "--queries", batch, "--json", "--clusters", "2", "--duplicates", "10")
        #expect(evaluated.status == 0, "\(evaluated.stderr)")
        let rows = try evaluated.stdout.split(separator: "\n").map { try json($0) }
        #expect(rows.map { $0["method"] as? String } == ["BGAN", "LSH", "ITQ", "k-means-2"])
        let duplicates = try #require(rows[0]["nearDuplicates"] as? [[String: Any]])
        #expect(duplicates.map { $0["perturbation"] as? String } == Perturbation.allCases.map(\.rawValue))
        // Every image of the batch is distinct noise, so refinement finds a stored image itself first.
        #expect(duplicates[0]["refinedRecallAt1"] as? Double == 1, "\(duplicates[0])")
        #expect((rows[3]["codes"] as? [String: Any])?["distinctCodes"] as? Int == 2, "two clusters, two codes")
        #expect(rows[1]["refinedPrecisionAtShortDepth"] == nil, "LSH has no real values to refine with")

        // Validation protocol: the last 10 images are the queries; features from a model feed ITQ and k-means.
        let validation = try run("eval", "--database", batch, "--validation", "10", "--bits", "16", "--features-model", model,
                                 "--clusters", "2", "--duplicates", "5")
        #expect(validation.status == 0, "\(validation.stderr)")
        #expect(validation.stderr.contains("database 30 images, 10 queries (validation"), "\(validation.stderr)")
        for method in ["ITQ-features", "k-means-2"] {
            let lines = validation.stdout.split(separator: "\n").filter { $0.hasPrefix("\(method)\t16\t") }
            #expect(lines.count == 3, "a row in each table (ranking, codes, near-duplicates) for \(method): \(validation.stdout)")
        }
        let both = try run("eval", "--database", batch, "--queries", batch, "--validation", "10")
        #expect(both.status == 64 && both.stderr.contains("either --queries"), "\(both.stderr)")
        let encoded = try run("encode", "--model", model, batch)
        #expect(encoded.stdout.split(separator: "\n").count == 40)
        let mismatch = try run("encode", "--model", model, "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", "--limit", "1")
        #expect(mismatch.status == 1 && mismatch.stderr.contains("1×28×28") && mismatch.stderr.contains("3×32×32"), "\(mismatch.stderr)")
    }

    @Test func createBindsTheDefaultModelOrAnother() throws {
        let bound = directory.sub("bound"), bare = directory.sub("bare"), explicit = directory.sub("explicit")
        let created = try run("create", bound, "--bits", "64")
        #expect(created.status == 0 && created.stderr.contains("bound to model"), "\(created.stderr)")
        let stats = try json(Substring(try run("stats", bound, "--json").stdout))
        #expect(stats["modelDigest"] as? String == (try DefaultModel.load(bits: 64)).digest)
        #expect(try run("create", bare, "--bits", "16").stderr.contains("bare 16-bit codes"))
        #expect(try json(Substring(try run("stats", bare, "--json").stdout))["modelDigest"] == nil)
        let model32 = try DefaultModel.locate(bits: 32).path
        let mismatch = try run("create", explicit, "--bits", "64", "--model", model32)
        #expect(mismatch.status == 64 && mismatch.stderr.contains("32-bit codes, not 64"), "\(mismatch.stderr)")
        #expect(!FileManager.default.fileExists(atPath: explicit + "/data.mdb"), "refused before anything is written")
        #expect(try run("create", explicit, "--model", model32).status == 0)
        #expect(try run("verify", explicit).status == 0)

        // Images in, neighbours out.
        let images = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fixtures/images")
        for name in ["gray8.png", "rgb.jpg", "rgb.ppm", "palette.png"] {
            let put = try run("put", bound, name, "--image", images.appendingPathComponent(name).path, "--payload", "fixture")
            #expect(put.status == 0, "\(put.stderr)")
        }
        // palette.png and rgb.ppm hold the same pixels; rgb.jpg nearly.
        let query = try run("query", bound, images.appendingPathComponent("palette.png").path, "-k", "3", "--json")
        #expect(query.status == 0, "\(query.stderr)")
        let first = try json(query.stdout.split(separator: "\n")[0])
        let hits = first["hits"] as? [[String: Any]] ?? []
        #expect(hits.count == 3 && hits.first?["distance"] as? Int == 0, "\(hits)")
        #expect(hits.contains { $0["key"] as? String == "rgb.ppm" && $0["distance"] as? Int == 0 }, "the same pixels: \(hits)")
        #expect(hits.allSatisfy { $0["payload"] as? String == "fixture" })
        let bareQuery = try run("query", bare, images.appendingPathComponent("gray8.png").path)
        #expect(bareQuery.status == 1 && bareQuery.stderr.contains("no model"), "\(bareQuery.stderr)")
    }

    @Test func aFolderOfImagesTrainsAtTheGeometryAsked() throws {
        let images = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fixtures/images").path
        let model = directory.sub("folder.bgan")
        let noGeometry = try run("train", "--data", images, "--bits", "16", "--out", model)
        #expect(noGeometry.status == 64 && noGeometry.stderr.contains("--geometry"), "\(noGeometry.stderr)")
        let trained = try run("train", "--recipe", "paper", "--data", images, "--geometry", "3x8x8", "--bits", "16", "--out", model, "--batch", "4",
                              "--epochs", "1", "--k1", "3", "--k2", "2", "--filters", "2", "--hidden-units", "8", "--feature-units", "8")
        #expect(trained.status == 0, "\(trained.stderr)")
        #expect(trained.stderr.contains("decoded 14 images") && trained.stderr.contains("7 file(s) skipped"), "\(trained.stderr)")
        let file = try ModelFile(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: model))))
        #expect(file.header.preprocessing == Preprocessing(channels: 3, height: 8, width: 8, centerCrop: true))
    }

    @Test func ingestStoresImagesResumesAndReportsRejects() throws {
        let store = directory.sub("ingest"), rejects = directory.sub("rejects.tsv")
        let images = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fixtures/images").path
        #expect(try run("create", store, "--bits", "32").status == 0)
        let first = try run("ingest", store, images, "--rejects", rejects)
        #expect(first.status == 1, "rejects make the exit status 1: \(first.stderr)")
        #expect(first.stderr.contains("ingested 14 new images, 0 already stored, 10 rejected"), "\(first.stderr)")
        let listed = try String(contentsOfFile: rejects, encoding: .utf8).split(separator: "\n")
        #expect(listed.count == 10)
        #expect(listed.contains { $0.hasSuffix("broken-zero.png\tnot a PNG, JPEG, WebP, BMP, PGM or PPM image") || $0.contains("broken-zero.png") })
        #expect(listed.contains { $0.contains("make_fixtures.py") })

        let again = try run("ingest", store, images, "--keep-going")
        #expect(again.status == 0 && again.stderr.contains("ingested 0 new images, 14 already stored"), "\(again.stderr)")

        // A data set, cut short as an interruption would, then finished by a second run.
        let data = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"
        #expect(try run("ingest", store, data, "--limit", "100").stderr.contains("ingested 100 new"))
        let resumed = try run("ingest", store, data, "--limit", "300")
        #expect(resumed.status == 0 && resumed.stderr.contains("ingested 200 new images, 100 already stored"), "\(resumed.stderr)")
        let item = try run("get", store, "t10k-images-idx3-ubyte.gz#5", "--json")
        let stored = try json(Substring(item.stdout))
        #expect(item.status == 0 && stored["payload"] as? String == "1", "the label is the payload: \(item.stdout)")
        let plain = try run("get", store, "t10k-images-idx3-ubyte.gz#5").stdout.split(separator: "\t")
        #expect(stored["key"] as? String == "t10k-images-idx3-ubyte.gz#5" && stored["code"] as? String == plain.dropFirst().first.map(String.init), "\(item.stdout)")
        // The stored images, queried from the data set: each finds itself; labels give a precision.
        let queried = try run("query", store, data, "--limit", "20", "-k", "5", "--json")
        #expect(queried.status == 0, "\(queried.stderr)")
        // With a near-tie band the stored images still find themselves first (their thumbnails are their own).
        let banded = try run("query", store, data, "--limit", "20", "-k", "1", "--json", "--refine-tie-band", "0.003")
        let bandedFirsts = try banded.stdout.split(separator: "\n").dropLast().map { try json($0) }
            .map { (($0["hits"] as? [[String: Any]])?.first?["key"] as? String) ?? "" }
        #expect(banded.status == 0 && bandedFirsts == (0..<20).map { "t10k-images-idx3-ubyte.gz#\($0)" }, "\(bandedFirsts)")
        // So they do with no ceiling on the thumbnail distance, and with a wide band under the default ceiling.
        for ceiling in [["--refine-tie-band", "0.003", "--refine-copy-distance", "any"], ["--refine-tie-band", "2", "--refine-copy-distance", "0.1"]] {
            let answered = try run(arguments: ["query", store, data, "--limit", "20", "-k", "1", "--json"] + ceiling)
            let firsts = try answered.stdout.split(separator: "\n").dropLast().map { try json($0) }
                .map { (($0["hits"] as? [[String: Any]])?.first?["key"] as? String) ?? "" }
            #expect(answered.status == 0 && firsts == (0..<20).map { "t10k-images-idx3-ubyte.gz#\($0)" }, "\(ceiling): \(firsts)")
        }
        let lines = try queried.stdout.split(separator: "\n").map { try json($0) }
        #expect(lines.count == 21)
        let firstHits = lines[0]["hits"] as? [[String: Any]] ?? []
        #expect(lines[0]["image"] as? String == "\(data)#0")
        #expect(firstHits.contains { $0["key"] as? String == "t10k-images-idx3-ubyte.gz#0" && $0["distance"] as? Int == 0 }, "\(firstHits)")
        let precision = (lines[20]["summary"] as? [String: Any])?["labelPrecision"] as? Double ?? -1
        #expect(precision > 0.3 && precision <= 1, "same-label share of the results: \(precision)")
        #expect(queried.stderr.contains("precision of the results against the labels"))
        // The contact sheet: three rows of the query and its five results, drawn from the thumbnails;
        // each query finds itself, so one result's picture is the query's picture.
        let sheetFile = directory.sub("sheet.png")
        let drawn = try run("query", store, data, "--limit", "3", "-k", "5", "--sheet", sheetFile)
        #expect(drawn.status == 0 && drawn.stderr.contains("wrote the contact sheet"), "\(drawn.stderr)")
        let sheet = try ImageDecoder().decode(contentsOf: sheetFile)
        let contact = ContactSheet(tile: 64)
        #expect(sheet.width == 2 * ContactSheet.margin + 6 * 64 + 5 * ContactSheet.gap + ContactSheet.separator)
        func tile(_ row: Int, _ column: Int) -> [UInt8] {
            let origin = contact.origin(row: row, column: column)
            return (0..<64).flatMap { y in (0..<64).map { x in sheet[origin.x + x, origin.y + y, 0] } }
        }
        for row in 0..<3 {
            #expect((1...5).contains { tile(row, $0) == tile(row, 0) }, "row \(row) shows the query among its results")
            #expect(tile(row, 0).contains { $0 != ContactSheet.background }, "row \(row) has a picture")
        }
        #expect(try run("verify", store).status == 0)
        let bare = directory.sub("bare-ingest")
        #expect(try run("create", bare, "--bits", "32", "--bare").status == 0)
        let refused = try run("ingest", bare, images)
        #expect(refused.status == 1 && refused.stderr.contains("no model"), "\(refused.stderr)")
    }

    @Test func reencodeMovesAStoreToAnotherModelFromItsThumbnailsOrTheOriginals() throws {
        let store = directory.sub("re"), data = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"
        #expect(try run("create", store, "--bits", "64").status == 0)
        #expect(try run("ingest", store, data, "--limit", "200").status == 0)
        let moved = try run("reencode", store, "--bits", "32")
        #expect(moved.status == 0 && moved.stderr.contains("200 items encoded now"), "\(moved.stderr)")
        let stats = try json(Substring(try run("stats", store, "--json").stdout))
        #expect(stats["modelDigest"] as? String == (try DefaultModel.load(bits: 32)).digest)
        #expect(stats["bits"] as? Int == 32, "\(stats)")
        // The codes are the new model's: each image finds itself at distance 0.
        let queried = try run("query", store, data, "--limit", "5", "-k", "1", "--json")
        let lines = try queried.stdout.split(separator: "\n").dropLast().map { try json($0) }
        #expect(lines.count == 5 && lines.allSatisfy { (($0["hits"] as? [[String: Any]])?.first?["distance"] as? Int) == 0 }, "\(queried.stdout)")
        #expect(try run("reencode", store, "--bits", "32").stderr.contains("nothing to do"))

        // A store without thumbnails needs the originals; --from gives them by key.
        let plain = directory.sub("plain")
        #expect(try run("create", plain, "--bits", "64", "--thumbnail-size", "0").status == 0)
        #expect(try run("ingest", plain, data, "--limit", "50").status == 0)
        let refused = try run("reencode", plain, "--bits", "32")
        #expect(refused.status != 0 && refused.stderr.contains("--from"), "\(refused.stderr)")
        let fromOriginals = try run("reencode", plain, "--bits", "32", "--from", data)
        #expect(fromOriginals.status == 0 && fromOriginals.stderr.contains("50 items encoded now"), "\(fromOriginals.stderr)")
        #expect(try run("verify", plain).status == 0)
    }

    @Test func versionAndHelp() throws {
        #expect(try run("--version").stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ".").count == 3)
        let help = try run("--help")
        for command in ["create", "import", "query", "export", "stats", "verify", "reindex", "backup"] {
            #expect(help.stdout.contains(command))
        }
    }
}
