/**
 * Parameter and FLOP arithmetic shared by the feed-forward plugins, so that reports compare variants on the
 * same convention: 2 FLOPs per multiply–add, element-wise work (activations, gating products, biases) not counted
 * (Kaplan et al. 2020).
 */

/** A weight matrix a token passes through, [in, out]. */
export interface MatrixShape {
  inFeatures: number;
  outFeatures: number;
}

/** Forward FLOPs of one token through the given weight matrices: 2·in·out each. */
export function matmulFlops(...matrices: MatrixShape[]): number {
  return matrices.reduce((n, m) => n + 2 * m.inFeatures * m.outFeatures, 0);
}

/**
 * Hidden size of a gated FFN with the parameters and FLOPs of an ungated one of hidden size `dFF`
 * (Shazeer 2020; Narang et al. 2021 cut 3072 → 2048): three d×h matrices instead of two d×dFF, so h = 2·dFF/3,
 * rounded to the nearest integer. 2·dFF/3 is never halfway between two integers, so no tie rule is needed, and
 * the gated FFN's weight count 3·d·h differs from 2·d·dFF by at most d (one rounding step of h costs 3·d).
 */
export function matchedGatedHidden(dFF: number): number {
  return Math.max(1, Math.round((2 * dFF) / 3));
}
