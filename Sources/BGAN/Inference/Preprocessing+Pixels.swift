import PixelIO

extension Preprocessing {
    /// The model's input for one image: converted to the model's channels (gray by BT.601 luma,
    /// transparency composited over black), centre-cropped to the model's aspect ratio when
    /// ``centerCrop`` is set, resized by area averaging to the model's geometry, and scaled,
    /// as `channels × height × width` values (planes one after the other).
    public func input(from image: PixelBuffer) -> [Float] {
        planes(from: image).map { Float($0) * scale }
    }

    /// The 8-bit values behind ``input(from:)``: the image converted, cropped and resized to the
    /// model's geometry, as `channels × height × width` bytes (planes one after the other).
    public func planes(from image: PixelBuffer) -> [UInt8] {
        let format: PixelFormat = channels == 1 ? .gray : .rgb
        var prepared = image.converted(to: format)
        if centerCrop { prepared = prepared.centerCropped(aspectWidth: width, aspectHeight: height) }
        prepared = prepared.areaResized(width: width, height: height)
        var values = [UInt8](repeating: 0, count: channels * height * width)
        let plane = height * width
        for y in 0..<height {
            for x in 0..<width {
                for c in 0..<channels { values[c * plane + y * width + x] = prepared[x, y, c] }
            }
        }
        return values
    }
}

extension ImageEncoder {
    /// The codes of decoded images, each brought to the model's input by its ``Preprocessing``,
    /// as `images.count × bits` values of ±1.
    public func signs(of images: [PixelBuffer]) throws -> [Float] {
        try signs(of: inputs(from: images))
    }

    /// The real-valued outputs `h` of decoded images (see ``realValuedOutputs(of:)-([Float])``).
    public func realValuedOutputs(of images: [PixelBuffer]) throws -> [Float] {
        try realValuedOutputs(of: inputs(from: images))
    }

    /// ``hiddenFeatures(of:)-([Float])`` of decoded images, brought to the model's input first.
    public func hiddenFeatures(of images: [PixelBuffer]) throws -> [Float] {
        try hiddenFeatures(of: inputs(from: images))
    }

    private func inputs(from images: [PixelBuffer]) -> [Float] {
        let preprocessing = model.header.preprocessing
        var values: [Float] = []
        values.reserveCapacity(images.count * valuesPerImage)
        for image in images { values += preprocessing.input(from: image) }
        return values
    }
}
