import Basics
import NeuralNet

/// Random views of an image for contrastive pre-training: a crop of random area and aspect
/// ratio resized back to the full image (bilinear), optionally turned by a small angle (its
/// corners then filled from the nearest edge, or black), a
/// left-right flip, a brightness scale, optionally a contrast change, Gaussian noise, and
/// optionally a caption drawn over it.
/// Two views of one image share its content but hardly a pixel, so an encoder that must tell
/// them apart from other images' views learns what survives these changes.
public struct ViewAugmentation: Codable, Sendable, Equatable {
    /// Smallest fraction of the image's area a crop keeps (1: no cropping).
    public var minimumArea: Float = 0.35
    /// Largest aspect ratio of a crop, and its inverse the smallest (1: square crops only).
    public var maximumAspect: Float = 4.0 / 3.0
    /// Flip left-right with probability ½.
    public var flips = true
    /// Brightness is multiplied by a factor drawn from [1 − this, 1 + this], then clipped to [0, 1].
    public var brightness: Float = 0.4
    /// Gaussian noise of a standard deviation drawn from [0, this] (in the [0, 1] scale of the
    /// values) is added to each view: 0.04 is about 10 of 255, a little more than the
    /// near-duplicate test's σ = 8 and in the range JPEG artefacts reach.
    public var noise: Float = 0.04
    /// Contrast is scaled by a factor drawn from [1 − this, 1 + this] about the view's mean value
    /// (0: unchanged, drawing nothing, so views and notes stay those of builds without it).
    public var contrast: Float = 0
    /// The crop turns about its centre by an angle drawn from [−this, this] degrees before it is
    /// resized; samples that fall outside the image take its nearest edge (0: no turn, drawing nothing).
    public var rotation: Float = 0
    /// Probability that a turned view's corners, where the turned frame leaves the crop, are black,
    /// as an image editor leaves a photograph turned in place (`PIL.Image.rotate`, OpenCV's
    /// `warpAffine`), instead of the nearest edge's pixels (0: never, drawing nothing, so views
    /// and notes stay those of builds without it; needs a rotation).
    public var blackCorners: Float = 0
    /// Probability that a view gets a synthetic caption over its lower part, as a photo gets a
    /// watermark or a line of text: a band of white glyph strokes outlined in black, drawn last
    /// (0: never, drawing nothing, so views and notes stay those of builds without it).
    public var captions: Float = 0

    public init() {}

    /// Milder views for the BGAN stage, close to the edits a near-duplicate of a stored image
    /// shows (a few pixels cropped or shifted, a mirror image, brightness and noise): two views
    /// of one image are trained to share a code.
    public static let nearDuplicate: ViewAugmentation = {
        var mild = ViewAugmentation()
        mild.minimumArea = 0.7
        mild.maximumAspect = 1.15
        mild.brightness = 0.2
        mild.noise = 0.04
        return mild
    }()

    private enum CodingKeys: String, CodingKey { case minimumArea, maximumAspect, flips, brightness, noise, contrast, rotation, blackCorners, captions }

    /// The views in words, as a stage-1 model file's `views` note records them (contrast,
    /// rotation, black corners and captions only when set, so the notes of views without them read as before).
    public var note: String {
        "crop area ≥ \(minimumArea), aspect ≤ \(maximumAspect), flips \(flips), brightness ±\(brightness), noise σ ≤ \(noise)"
            + (contrast > 0 ? ", contrast ±\(contrast)" : "") + (rotation > 0 ? ", rotation ±\(rotation)°" : "")
            + (blackCorners > 0 ? ", black corners p \(blackCorners)" : "") + (captions > 0 ? ", captions p \(captions)" : "")
    }

    /// Reads checkpoints written before views had noise, contrast, rotation, black corners or captions as views without them.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        minimumArea = try container.decode(Float.self, forKey: .minimumArea)
        maximumAspect = try container.decode(Float.self, forKey: .maximumAspect)
        flips = try container.decode(Bool.self, forKey: .flips)
        brightness = try container.decode(Float.self, forKey: .brightness)
        noise = try container.decodeIfPresent(Float.self, forKey: .noise) ?? 0
        contrast = try container.decodeIfPresent(Float.self, forKey: .contrast) ?? 0
        rotation = try container.decodeIfPresent(Float.self, forKey: .rotation) ?? 0
        blackCorners = try container.decodeIfPresent(Float.self, forKey: .blackCorners) ?? 0
        captions = try container.decodeIfPresent(Float.self, forKey: .captions) ?? 0
    }

    /// Writes contrast, rotation, black corners and captions only when set, so checkpoints of views without them keep their bytes.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(minimumArea, forKey: .minimumArea)
        try container.encode(maximumAspect, forKey: .maximumAspect)
        try container.encode(flips, forKey: .flips)
        try container.encode(brightness, forKey: .brightness)
        try container.encode(noise, forKey: .noise)
        if contrast > 0 { try container.encode(contrast, forKey: .contrast) }
        if rotation > 0 { try container.encode(rotation, forKey: .rotation) }
        if blackCorners > 0 { try container.encode(blackCorners, forKey: .blackCorners) }
        if captions > 0 { try container.encode(captions, forKey: .captions) }
    }

    /// No change at all: every view is the image itself.
    public static let identity: ViewAugmentation = {
        var none = ViewAugmentation()
        none.minimumArea = 1
        none.maximumAspect = 1
        none.flips = false
        none.brightness = 0
        none.noise = 0
        return none
    }()

    /// Checks the ranges.
    public func validate() throws {
        guard minimumArea > 0, minimumArea <= 1, maximumAspect >= 1, maximumAspect.isFinite, brightness >= 0, brightness < 1,
              noise >= 0, noise <= 0.5, contrast >= 0, contrast < 1, rotation >= 0, rotation <= 45, blackCorners >= 0, blackCorners <= 1,
              captions >= 0, captions <= 1 else {
            throw BGANError(.invalidArgument, "view augmentation needs a minimum area in (0, 1], a maximum aspect ratio of at least 1, a brightness change in [0, 1), a noise level in [0, 0.5], a contrast change in [0, 1), a rotation in [0, 45] degrees and probabilities of black corners and captions in [0, 1]; got \(minimumArea), \(maximumAspect), \(brightness), \(noise), \(contrast), \(rotation), \(blackCorners), \(captions)")
        }
        guard blackCorners == 0 || rotation > 0 else {
            throw BGANError(.invalidArgument, "black corners (probability \(blackCorners)) come from turning the views, and their rotation is 0: give a rotation too, or drop the black corners")
        }
    }

    /// A random view of `image` (`C × H × W` values in [0, 1]) written to `view`.
    public func view(of image: UnsafeBufferPointer<Float>, into view: UnsafeMutableBufferPointer<Float>,
                     channels: Int, height: Int, width: Int, rng: inout SeededGenerator) {
        let choice = choose(height: height, width: width, rng: &rng)
        render(image, into: view, choice, channels: channels, height: height, width: width, rng: &rng)
    }

    /// Views of `count` images, view `i` of the image `image(i, buffer)` writes to `buffer`, into
    /// consecutive slots of `views`: the same values as calling ``view(of:into:channels:height:width:rng:)``
    /// on each image in turn with `rng`, and `rng` ends where that would leave it, but the pixels
    /// are rendered on several threads. The choices are drawn in order first; each view's noise
    /// then comes from its own copy of the stream, moved past the draws of the views before it
    /// (``SeededGenerator/skip(_:)``).
    public func views(count: Int, channels: Int, height: Int, width: Int, into views: UnsafeMutableBufferPointer<Float>,
                      rng: inout SeededGenerator, image: (Int, UnsafeMutableBufferPointer<Float>) throws -> Void) rethrows {
        let size = channels * height * width
        precondition(views.count == count * size, "\(views.count) values for \(count) views of \(size)")
        var sources = [Float](repeating: 0, count: count * size)
        let plans: [Plan] = try sources.withUnsafeMutableBufferPointer { sources in
            try (0..<count).map { i in
                try image(i, UnsafeMutableBufferPointer(rebasing: sources[(i * size)..<((i + 1) * size)]))
                let choice = choose(height: height, width: width, rng: &rng)
                let plan = Plan(choice: choice, noise: rng, draws: choice.noiseDraws(values: size))
                rng.skip(plan.draws)
                return plan
            }
        }
        sources.withUnsafeBufferPointer { sources in
            parallelRanges(count, tasks: BLAS.threads, minimumPerTask: 8) { range in
                for i in range {
                    var noise = plans[i].noise
                    render(UnsafeBufferPointer(rebasing: sources[(i * size)..<((i + 1) * size)]),
                           into: UnsafeMutableBufferPointer(rebasing: views[(i * size)..<((i + 1) * size)]),
                           plans[i].choice, channels: channels, height: height, width: width, rng: &noise)
                    assert(noise.state == plans[i].end.state, "view \(i) drew other than \(plans[i].draws) numbers for its noise")
                }
            }
        }
    }

    /// One view of a batch: its choices, and the stream its noise starts from.
    private struct Plan {
        let choice: Choice
        let noise: SeededGenerator
        /// Draws its noise takes, which the next view's stream skips.
        let draws: Int

        /// Where the view's noise leaves the stream.
        var end: SeededGenerator {
            var end = noise
            end.skip(draws)
            return end
        }
    }

    /// The random choices of one view, drawn before its noise.
    struct Choice {
        let cropHeight: Float, cropWidth: Float, top: Float, left: Float
        let flip: Bool
        let gain: Float
        /// Standard deviation of the noise: 0 draws none.
        let sigma: Float
        /// Factor on each value's distance from the view's mean (1: unchanged).
        var contrastFactor: Float = 1
        /// Turn of the crop about its centre, in radians (0: none).
        var angle: Float = 0
        /// Whether the turned frame's parts outside the crop are black (else the nearest edge's pixels).
        var blackCorners = false
        /// The caption drawn over the view, if any.
        var caption: Caption?

        /// How many 64-bit draws the noise of a view of `values` values takes: one normal a value.
        func noiseDraws(values: Int) -> Int { sigma > 0 ? SeededGenerator.drawsPerNormal * values : 0 }
    }

    func choose(height: Int, width: Int, rng: inout SeededGenerator) -> Choice {
        // The crop keeps `area` of the image; `aspect` stretches it relative to the image's own shape.
        let area = uniform(minimumArea, 1, &rng)
        let aspect = expf(uniform(-logf(maximumAspect), logf(maximumAspect), &rng))
        let cropHeight = min(Float(height), Float(height) * (area / aspect).squareRoot())
        let cropWidth = min(Float(width), Float(width) * (area * aspect).squareRoot())
        let top = uniform(0, Float(height) - cropHeight, &rng)
        let left = uniform(0, Float(width) - cropWidth, &rng)
        let flip = flips && rng.next() & 1 == 1
        let gain = 1 + uniform(-brightness, brightness, &rng)
        let sigma = noise > 0 ? uniform(0, noise, &rng) : 0
        var choice = Choice(cropHeight: cropHeight, cropWidth: cropWidth, top: top, left: left, flip: flip, gain: gain, sigma: sigma)
        // Drawn after the others and only when set, so views without them draw as before.
        if contrast > 0 { choice.contrastFactor = 1 + uniform(-contrast, contrast, &rng) }
        if rotation > 0 { choice.angle = uniform(-rotation, rotation, &rng) * .pi / 180 }
        if rotation > 0, blackCorners > 0 { choice.blackCorners = uniform(0, 1, &rng) < blackCorners }
        if captions > 0, uniform(0, 1, &rng) < captions {
            choice.caption = Caption(top: uniform(0.55, 0.85, &rng), height: uniform(0.07, 0.14, &rng), left: uniform(0, 0.2, &rng),
                                     width: uniform(0.4, 0.9, &rng), glyphs: rng.next())
        }
        return choice
    }

    /// Writes the view `choice` describes, drawing its noise from `rng` (``Choice/noiseDraws(values:)`` draws).
    func render(_ image: UnsafeBufferPointer<Float>, into view: UnsafeMutableBufferPointer<Float>, _ choice: Choice,
                channels: Int, height: Int, width: Int, rng: inout SeededGenerator) {
        renderPhoto(image, into: view, choice, channels: channels, height: height, width: width, rng: &rng)
        choice.caption?.draw(into: view, channels: channels, height: height, width: width)
    }

    /// The view without its caption.
    private func renderPhoto(_ image: UnsafeBufferPointer<Float>, into view: UnsafeMutableBufferPointer<Float>, _ choice: Choice,
                             channels: Int, height: Int, width: Int, rng: inout SeededGenerator) {
        guard choice.angle != 0 || choice.contrastFactor != 1 else {
            return renderCropped(image, into: view, choice, channels: channels, height: height, width: width, rng: &rng)
        }
        renderTurned(image, into: view, choice, channels: channels, height: height, width: width)
        let factor = choice.contrastFactor, sigma = choice.sigma
        let mean = view.reduce(0, +) / Float(view.count)
        // The same order of values as the crop's pass, so each value's noise comes from the same draw.
        let plane = height * width
        for y in 0..<height {
            for x in 0..<width {
                for c in 0..<channels {
                    let i = c * plane + y * width + x
                    let grain = sigma > 0 ? sigma * rng.normal() : 0
                    view[i] = min(1, max(0, mean + factor * (view[i] - mean) + grain))
                }
            }
        }
    }

    /// A crop without a turn or a contrast change: resized, flipped, scaled by the gain, noise added, clipped.
    private func renderCropped(_ image: UnsafeBufferPointer<Float>, into view: UnsafeMutableBufferPointer<Float>, _ choice: Choice,
                               channels: Int, height: Int, width: Int, rng: inout SeededGenerator) {
        let (cropHeight, cropWidth, top, left, flip, gain, sigma) = (choice.cropHeight, choice.cropWidth, choice.top, choice.left,
                                                                     choice.flip, choice.gain, choice.sigma)
        let plane = height * width
        for y in 0..<height {
            // The centre of output pixel y maps into the crop; sample bilinearly between pixel centres.
            let sy = min(max(top + (Float(y) + 0.5) * cropHeight / Float(height) - 0.5, 0), Float(height - 1))
            let y0 = Int(sy), y1 = min(y0 + 1, height - 1), fy = sy - Float(y0)
            for x in 0..<width {
                let column = flip ? width - 1 - x : x
                let sx = min(max(left + (Float(column) + 0.5) * cropWidth / Float(width) - 0.5, 0), Float(width - 1))
                let x0 = Int(sx), x1 = min(x0 + 1, width - 1), fx = sx - Float(x0)
                for c in 0..<channels {
                    let sample = Self.bilinear(image, plane: c * plane, width: width, x0, x1, fx, y0, y1, fy)
                    let grain = sigma > 0 ? sigma * rng.normal() : 0
                    view[c * plane + y * width + x] = min(1, max(0, gain * sample + grain))
                }
            }
        }
    }

    /// The crop turned by `choice.angle` about its centre, resized and flipped, scaled by the gain:
    /// no noise and no clipping yet (the contrast change needs the mean first). With
    /// `choice.blackCorners`, points of the turned frame outside the crop are 0: the crop turned in
    /// place as an editor turns a photograph, its corners left black.
    private func renderTurned(_ image: UnsafeBufferPointer<Float>, into view: UnsafeMutableBufferPointer<Float>, _ choice: Choice,
                              channels: Int, height: Int, width: Int) {
        let (cropHeight, cropWidth, flip, gain) = (choice.cropHeight, choice.cropWidth, choice.flip, choice.gain)
        let (sine, cosine) = (sinf(choice.angle), cosf(choice.angle))
        let centreY = choice.top + cropHeight / 2, centreX = choice.left + cropWidth / 2
        let plane = height * width
        for y in 0..<height {
            // Output pixel centres as offsets from the crop's centre, turned, then back into the image.
            let v = (Float(y) + 0.5) * cropHeight / Float(height) - cropHeight / 2
            for x in 0..<width {
                let column = flip ? width - 1 - x : x
                let u = (Float(column) + 0.5) * cropWidth / Float(width) - cropWidth / 2
                let turnedX = centreX + cosine * u - sine * v, turnedY = centreY + sine * u + cosine * v
                if choice.blackCorners, abs(turnedX - centreX) > cropWidth / 2 || abs(turnedY - centreY) > cropHeight / 2 {
                    for c in 0..<channels { view[c * plane + y * width + x] = 0 }
                    continue
                }
                let sx = min(max(turnedX - 0.5, 0), Float(width - 1))
                let sy = min(max(turnedY - 0.5, 0), Float(height - 1))
                let x0 = Int(sx), x1 = min(x0 + 1, width - 1), fx = sx - Float(x0)
                let y0 = Int(sy), y1 = min(y0 + 1, height - 1), fy = sy - Float(y0)
                for c in 0..<channels {
                    view[c * plane + y * width + x] = gain * Self.bilinear(image, plane: c * plane, width: width, x0, x1, fx, y0, y1, fy)
                }
            }
        }
    }

    /// The value between the four pixels (`x0`, `x1`) × (`y0`, `y1`) of the plane starting at
    /// `plane`, `fx` and `fy` of the way from the first to the second.
    @inline(__always)
    private static func bilinear(_ image: UnsafeBufferPointer<Float>, plane: Int, width: Int,
                                 _ x0: Int, _ x1: Int, _ fx: Float, _ y0: Int, _ y1: Int, _ fy: Float) -> Float {
        let upper = image[plane + y0 * width + x0] * (1 - fx) + image[plane + y0 * width + x1] * fx
        let lower = image[plane + y1 * width + x0] * (1 - fx) + image[plane + y1 * width + x1] * fx
        return upper * (1 - fy) + lower * fy
    }

    private func uniform(_ low: Float, _ high: Float, _ rng: inout SeededGenerator) -> Float {
        low + (high - low) * Float(rng.next() >> 40) / Float(1 << 24)
    }
}

extension ViewAugmentation {
    /// Flips each image left-right with probability ½ and shifts it by up to `shift` pixels in
    /// each direction, filling with the image's corner value.
    static func flipAndShift(_ batch: inout [Float], architecture a: BGANArchitecture, shift: Int, rng: inout SeededGenerator) {
        let plane = a.height * a.width, size = a.channels * plane
        var source = [Float](repeating: 0, count: size)
        for start in stride(from: 0, to: batch.count, by: size) {
            let flip = rng.next() & 1 == 1
            let dy = Int(rng.next() % UInt64(2 * shift + 1)) - shift, dx = Int(rng.next() % UInt64(2 * shift + 1)) - shift
            for i in 0..<size { source[i] = batch[start + i] }
            for c in 0..<a.channels {
                let fill = source[c * plane]
                for y in 0..<a.height {
                    for x in 0..<a.width {
                        let sy = y - dy, sx0 = x - dx
                        let sx = flip ? a.width - 1 - sx0 : sx0
                        let inside = sy >= 0 && sy < a.height && sx >= 0 && sx < a.width
                        batch[start + c * plane + y * a.width + x] = inside ? source[c * plane + sy * a.width + sx] : fill
                    }
                }
            }
        }
    }
}

extension ViewAugmentation {
    /// A synthetic caption: a band across part of a view's lower half, as a watermark or a line of
    /// text lies over a photo. Its glyphs are white strokes outlined in black (as editors draw text
    /// to be read on any background): the band, at least 3 rows high, has black first and last
    /// rows, and inside it each glyph column is white or black by a pattern drawn from `glyphs`, one
    /// glyph about as wide as the band is high. Positions and sizes are shares of the view's height
    /// and width.
    struct Caption: Equatable {
        let top: Float, height: Float, left: Float, width: Float
        /// Seed of the glyph pattern (drawn with the view's other choices, so the noise stream is untouched).
        let glyphs: UInt64

        /// Draws the caption over `view` (`channels × height × width`), the same in every channel.
        func draw(into view: UnsafeMutableBufferPointer<Float>, channels: Int, height: Int, width: Int) {
            let rows = min(height, max(3, Int((self.height * Float(height)).rounded())))
            let firstRow = min(height - rows, Int(top * Float(height))), firstColumn = Int(left * Float(width))
            let lastColumn = min(width, firstColumn + max(1, Int(self.width * Float(width))))
            let glyphWidth = max(1, rows - 1)
            var pattern = SeededGenerator(seed: glyphs)
            var glyph: [Bool] = []
            for column in firstColumn..<lastColumn {
                if (column - firstColumn) % glyphWidth == 0 { glyph = (0..<rows).map { _ in pattern.next() & 1 == 1 } }
                for row in 0..<rows {
                    let outline = row == 0 || row == rows - 1
                    let value: Float = outline ? 0 : (glyph[(row + column) % rows] ? 1 : 0)
                    for c in 0..<channels { view[c * height * width + (firstRow + row) * width + column] = value }
                }
            }
        }
    }
}
