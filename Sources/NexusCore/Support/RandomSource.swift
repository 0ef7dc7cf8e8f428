#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// xoshiro256** seeded through SplitMix64: fast, good enough for simulation, and reproducible, so a
/// simulation with the same `--seed` (or `nexus bench --seed`) gives the same numbers on every machine.
public struct RandomSource: Sendable {
    @usableFromInline var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    public init(seed: UInt64) {
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(); s1 = splitMix(); s2 = splitMix(); s3 = splitMix()
    }

    /// An independent stream for one purpose (arrivals of one app, batch times of one GPU, ...).
    public init(seed: UInt64, stream: UInt64) {
        self.init(seed: seed ^ (stream &* 0xD1B5_4A32_D192_ED03) &+ stream)
    }

    @inlinable
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// Uniform in [0, 1).
    @inlinable
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform in (0, 1], safe for `log`.
    @inlinable
    public mutating func openUnit() -> Double { Double((next() >> 11) + 1) * 0x1.0p-53 }

    @inlinable
    public mutating func exponential(mean: Double) -> Double { -log(openUnit()) * mean }

    public mutating func standardNormal() -> Double {
        // Box-Muller; one value per call keeps the stream simple.
        sqrt(-2 * log(openUnit())) * cos(2 * Double.pi * unit())
    }

    /// Gamma(shape, scale) by Marsaglia-Tsang (shape < 1 boosted by U^(1/shape)).
    public mutating func gamma(shape: Double, scale: Double) -> Double {
        if shape < 1 {
            return gamma(shape: shape + 1, scale: scale) * pow(openUnit(), 1 / shape)
        }
        let d = shape - 1.0 / 3
        let c = 1 / sqrt(9 * d)
        while true {
            var x: Double, v: Double
            repeat {
                x = standardNormal()
                v = 1 + c * x
            } while v <= 0
            v = v * v * v
            let u = openUnit()
            if u < 1 - 0.0331 * x * x * x * x || log(u) < 0.5 * x * x + d * (1 - v + log(v)) {
                return d * v * scale
            }
        }
    }
}
