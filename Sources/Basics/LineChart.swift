import Foundation

/// Line plots as a small self-contained SVG (precision-recall curves, loss curves).
package struct LineChart {
    package let xLabel: String
    package let yLabel: String
    package let xRange: ClosedRange<Double>
    package let yRange: ClosedRange<Double>
    package let series: [(name: String, points: [(x: Double, y: Double)])]

    /// A chart whose ranges span every point (from zero on the y axis unless values go below).
    package init(xLabel: String, yLabel: String, series: [(name: String, points: [(x: Double, y: Double)])]) {
        let xs = series.flatMap { $0.points.map(\.x) }, ys = series.flatMap { $0.points.map(\.y) }.filter(\.isFinite)
        let xLow = xs.min() ?? 0, xHigh = max(xs.max() ?? 1, xLow + 1e-9)
        let yLow = min(0, ys.min() ?? 0), yHigh = max(ys.max() ?? 1, yLow + 1e-9)
        self.init(xLabel: xLabel, yLabel: yLabel, xRange: xLow...xHigh, yRange: yLow...(yHigh * 1.05), series: series)
    }

    package init(xLabel: String, yLabel: String, xRange: ClosedRange<Double>, yRange: ClosedRange<Double>,
         series: [(name: String, points: [(x: Double, y: Double)])]) {
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.xRange = xRange
        self.yRange = yRange
        self.series = series
    }

    package func svg() -> String {
        let width = 640.0, height = 480.0, margin = 60.0
        let colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]
        func x(_ value: Double) -> Double { margin + (value - xRange.lowerBound) / (xRange.upperBound - xRange.lowerBound) * (width - 2 * margin) }
        func y(_ value: Double) -> Double { height - margin - (value - yRange.lowerBound) / (yRange.upperBound - yRange.lowerBound) * (height - 2 * margin) }
        func label(_ value: Double) -> String { String(format: abs(value) >= 10 || value == value.rounded() ? "%.0f" : "%.2g", value) }
        let (left, right, bottom, top) = (xRange.lowerBound, xRange.upperBound, yRange.lowerBound, yRange.upperBound)
        var parts = ["<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"sans-serif\" font-size=\"12\">",
                     "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>",
                     "<line x1=\"\(x(left))\" y1=\"\(y(bottom))\" x2=\"\(x(right))\" y2=\"\(y(bottom))\" stroke=\"black\"/>",
                     "<line x1=\"\(x(left))\" y1=\"\(y(bottom))\" x2=\"\(x(left))\" y2=\"\(y(top))\" stroke=\"black\"/>",
                     "<text x=\"\(width / 2)\" y=\"\(height - 20)\" text-anchor=\"middle\">\(escaped(xLabel))</text>",
                     "<text x=\"20\" y=\"\(height / 2)\" transform=\"rotate(-90 20 \(height / 2))\" text-anchor=\"middle\">\(escaped(yLabel))</text>"]
        for step in 0...5 {
            let xValue = left + Double(step) / 5 * (right - left), yValue = bottom + Double(step) / 5 * (top - bottom)
            parts.append("<text x=\"\(x(xValue))\" y=\"\(y(bottom) + 16)\" text-anchor=\"middle\">\(label(xValue))</text>")
            parts.append("<text x=\"\(x(left) - 8)\" y=\"\(y(yValue) + 4)\" text-anchor=\"end\">\(label(yValue))</text>")
        }
        for (index, entry) in series.enumerated() {
            let color = colors[index % colors.count]
            let points = entry.points.filter { $0.y.isFinite }.map { String(format: "%.1f,%.1f", x($0.x), y($0.y)) }.joined(separator: " ")
            parts.append("<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\" points=\"\(points)\"/>")
            parts.append("<text x=\"\(width - margin - 150)\" y=\"\(margin + 16 * Double(index))\" fill=\"\(color)\">\(escaped(entry.name))</text>")
        }
        parts.append("</svg>")
        return parts.joined(separator: "\n")
    }

    private func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
