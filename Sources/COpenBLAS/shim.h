#pragma once
#include <stddef.h>
#include <cblas.h>

// LAPACK routines shipped inside libopenblas (Fortran ABI: arguments by pointer, then the hidden
// lengths of the character arguments).
void ssyev_(const char *jobz, const char *uplo, const int *n, float *a, const int *lda, float *w,
            float *work, const int *lwork, int *info, size_t jobz_length, size_t uplo_length);
void sgesvd_(const char *jobu, const char *jobvt, const int *m, const int *n, float *a, const int *lda,
             float *s, float *u, const int *ldu, float *vt, const int *ldvt, float *work, const int *lwork,
             int *info, size_t jobu_length, size_t jobvt_length);
