import COpenBLAS

/// The one door to OpenBLAS: matrix products and the library's own configuration. No other file
/// of the package imports the BLAS module.
public enum BLAS {
    /// `C = alpha · op(A) · op(B) + beta · C` for row-major matrices, where `op(A)` is `m × k`
    /// and `op(B)` is `k × n`. `lda`, `ldb`, `ldc` are the row strides of the stored matrices.
    @inlinable
    public static func gemm(transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
                            alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                            beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        guard m > 0, n > 0 else { return }
        if k == 0 {
            if beta == 0 {
                for row in 0..<m { for column in 0..<n { c[row * ldc + column] = 0 } }
            } else if beta != 1 {
                for row in 0..<m { for column in 0..<n { c[row * ldc + column] *= beta } }
            }
            return
        }
        sgemm(transposeA, transposeB, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    @usableFromInline
    static func sgemm(_ ta: Bool, _ tb: Bool, _ m: Int32, _ n: Int32, _ k: Int32, _ alpha: Float,
                      _ a: UnsafePointer<Float>, _ lda: Int32, _ b: UnsafePointer<Float>, _ ldb: Int32,
                      _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int32) {
        cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                    m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    }

    /// The CPU kernel set OpenBLAS chose when it loaded (e.g. "SkylakeX", "Haswell", or the slow
    /// fallback "Prescott" on CPUs this OpenBLAS release does not recognise).
    public static var coreName: String { String(cString: openblas_get_corename()) }

    /// OpenBLAS's build configuration line.
    public static var configuration: String { String(cString: openblas_get_config()) }

    /// Threads OpenBLAS uses for one product. Defaults to every core.
    public static var threads: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(max(1, newValue))) }
    }

    // MARK: LAPACK (inside libopenblas)

    /// Eigenvalues (ascending) and eigenvectors of the symmetric `n × n` row-major matrix `a`
    /// (`ssyev`). Eigenvector `i` is row `i` of `vectors` (`n` values).
    public static func symmetricEigen(_ a: [Float], n: Int) throws -> (values: [Float], vectors: [Float]) {
        precondition(a.count == n * n, "\(a.count) values for a \(n)×\(n) matrix")
        // Column-major LAPACK on a symmetric matrix: the row-major input is the same matrix, and
        // the eigenvectors come back as columns, i.e. as rows of the row-major result.
        var matrix = a
        var values = [Float](repeating: 0, count: n)
        var size = Int32(n), lda = Int32(max(n, 1)), info: Int32 = 0
        var lwork: Int32 = -1
        var query: Float = 0
        "V".withCString { jobz in "U".withCString { uplo in
            ssyev_(jobz, uplo, &size, &matrix, &lda, &values, &query, &lwork, &info, 1, 1)
        } }
        guard info == 0 else { throw NeuralNetError(.invalidArgument, "ssyev rejected a \(n)×\(n) matrix (info \(info))") }
        lwork = Int32(query.rounded(.up))
        var work = [Float](repeating: 0, count: Int(max(lwork, 1)))
        "V".withCString { jobz in "U".withCString { uplo in
            ssyev_(jobz, uplo, &size, &matrix, &lda, &values, &work, &lwork, &info, 1, 1)
        } }
        guard info == 0 else {
            throw NeuralNetError(.invalidArgument, "the eigendecomposition did not converge (ssyev info \(info))")
        }
        return (values, matrix)
    }

    /// Singular value decomposition of the `m × n` row-major matrix `a` = U · diag(s) · Vᵀ
    /// (`sgesvd`, full U and Vᵀ), all row-major.
    public static func singularValueDecomposition(_ a: [Float], m: Int, n: Int) throws -> (u: [Float], s: [Float], vt: [Float]) {
        precondition(a.count == m * n, "\(a.count) values for a \(m)×\(n) matrix")
        // The row-major m×n matrix is the column-major n×m matrix Aᵀ = V·S·Uᵀ: decompose that and swap.
        var matrix = a
        var rows = Int32(n), columns = Int32(m)
        var lda = Int32(max(n, 1)), ldu = Int32(max(n, 1)), ldvt = Int32(max(m, 1))
        var s = [Float](repeating: 0, count: min(m, n))
        var uOfTranspose = [Float](repeating: 0, count: n * n)
        var vtOfTranspose = [Float](repeating: 0, count: m * m)
        var info: Int32 = 0
        var lwork: Int32 = -1
        var query: Float = 0
        "A".withCString { job in
            sgesvd_(job, job, &rows, &columns, &matrix, &lda, &s, &uOfTranspose, &ldu, &vtOfTranspose, &ldvt, &query, &lwork, &info, 1, 1)
        }
        guard info == 0 else { throw NeuralNetError(.invalidArgument, "sgesvd rejected a \(m)×\(n) matrix (info \(info))") }
        lwork = Int32(query.rounded(.up))
        var work = [Float](repeating: 0, count: Int(max(lwork, 1)))
        "A".withCString { job in
            sgesvd_(job, job, &rows, &columns, &matrix, &lda, &s, &uOfTranspose, &ldu, &vtOfTranspose, &ldvt, &work, &lwork, &info, 1, 1)
        }
        guard info == 0 else {
            throw NeuralNetError(.invalidArgument, "the singular value decomposition did not converge (sgesvd info \(info))")
        }
        // Column-major n×n "U" of Aᵀ read row-major is its transpose: that is Vᵀ of A (n×n).
        // Column-major m×m "Vᵀ" of Aᵀ read row-major is its transpose: that is U of A (m×m).
        return (u: vtOfTranspose, s: s, vt: uOfTranspose)
    }
}
