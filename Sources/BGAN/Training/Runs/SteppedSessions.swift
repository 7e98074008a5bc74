extension TrainingSession: SteppedTrainingSession {
    public var stage: TrainingStage { .train }
    public var beta: Float? { networks.smoothedSign.beta }
    public var epochs: Int { settings.epochs }
    public var imagesPerStep: Int { settings.batch }

    public func runNamedStep() throws -> [NamedLoss] {
        try runStep().named.map { NamedLoss(name: $0.name, value: $0.value) }
    }

    public var lossCurves: [LossCurve] {
        var names: [String] = []
        for point in history { for loss in point.losses.named where !names.contains(loss.name) { names.append(loss.name) } }
        return names.compactMap { name in
            let points = history.map { point in (epoch: point.epoch, value: Double(point.losses.named.first { $0.name == name }?.value ?? 0)) }
            return points.contains { $0.value != 0 } ? LossCurve(name: name, points: points) : nil
        }
    }
}

extension ContrastiveSession: SteppedTrainingSession {
    public var stage: TrainingStage { .pretrain }
    public var beta: Float? { nil }
    public var epochs: Int { settings.epochs }
    public var imagesPerStep: Int { settings.batch }

    public func runNamedStep() throws -> [NamedLoss] {
        [NamedLoss(name: "contrastive", value: try runStep())]
    }

    public var lossCurves: [LossCurve] {
        [LossCurve(name: "contrastive", points: history.map { (epoch: $0.epoch, value: Double($0.loss)) })]
    }
}
