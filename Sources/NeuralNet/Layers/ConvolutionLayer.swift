/// What ``Conv2D`` and ``ConvTranspose2D`` share: channels, a square kernel, stride and padding,
/// and a He-initialised weight and zero bias registered in a parameter store. Not a layer by
/// itself; the two subclasses say how the weight is laid out and what forward and backward do.
public class ConvolutionLayer {
    public let name: String
    public let inputChannels: Int
    public let outputChannels: Int
    public let kernel: Int
    public let stride: Int
    public let padding: Int
    let store: ParameterStore
    let weight: Int
    let bias: Int

    /// Registers `name.weight` with `weightShape` (fan-in `inputChannels · kernel²`) and
    /// `name.bias` with one value per output channel.
    init(_ name: String, inputChannels: Int, outputChannels: Int, kernel: Int, stride: Int, padding: Int,
         weightShape: [Int], parameters: ParameterStore, rng: inout SeededGenerator) {
        precondition(kernel >= 1 && stride >= 1 && padding >= 0, "\(name): kernel \(kernel), stride \(stride), padding \(padding) is not a convolution")
        self.name = name
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        store = parameters
        let fanIn = inputChannels * kernel * kernel
        weight = parameters.add("\(name).weight", shape: weightShape) { _ in Initialization.he(fanIn: fanIn, &rng) }
        bias = parameters.add("\(name).bias", shape: [outputChannels]) { _ in 0 }
    }
}
