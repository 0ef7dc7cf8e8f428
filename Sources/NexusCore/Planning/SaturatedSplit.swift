/// Step 2 of DESIGN.md §3.2 (and the baselines' whole GPUs): `n = floor(r / T)` backends each carry `T`
/// and the rest is a residual. When the residual is only rounding noise, the last whole backend absorbs it
/// so that allocations always sum exactly to the rate.
struct SaturatedSplit {
    var wholeBackendRates: [Double]
    var residualPerSecond: Double

    init(ratePerSecond rate: Double, peakPerSecond peak: Double) {
        let whole = Int((rate / peak + 1e-9).rounded(.down))
        var residual = rate - Double(whole) * peak
        if residual <= 1e-9 * rate { residual = 0 }
        wholeBackendRates = (0..<whole).map { k in
            k == whole - 1 && residual == 0 ? rate - Double(whole - 1) * peak : peak
        }
        residualPerSecond = residual
    }
}
