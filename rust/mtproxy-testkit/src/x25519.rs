//! An X25519 point check that shares no code with the proxy's crypto
//! (aws-lc-rs, OpenSSL): plain big-integer arithmetic with `num-bigint`.
//!
//! Every 32-byte string is the u-coordinate of a point either on curve25519
//! (`v² = u³ + 486662·u² + u` over GF(p), p = 2^255 − 19) or on its quadratic
//! twist. A real X25519 public key (the base point 9 times a scalar) is always
//! on the curve; random bytes are on the curve about half of the time. So the
//! check catches a proxy whose "public key" is plain random bytes with
//! probability ½ per connection, and practically always over a few connections.
use num_bigint::BigUint;

/// p = 2^255 − 19.
fn prime() -> BigUint {
    (BigUint::from(1u8) << 255u32) - BigUint::from(19u8)
}

/// True iff the little-endian u-coordinate `u` (top bit of the last byte
/// masked, as RFC 7748 §5 says; values ≥ p taken modulo p, as it also says)
/// belongs to a point on curve25519 rather than on its twist, i.e. iff
/// `u³ + 486662·u² + u` is a square modulo p (Euler's criterion: its
/// `(p − 1)/2`-th power is 0 or 1). u = 0 (the point of order 2) counts as on
/// the curve.
pub fn is_x25519_point(u: &[u8; 32]) -> bool {
    let mut bytes = *u;
    bytes[31] &= 0x7f;
    let p = prime();
    let u = BigUint::from_bytes_le(&bytes) % &p;
    let u2 = &u * &u % &p;
    let u3 = &u2 * &u % &p;
    let v = (u3 + BigUint::from(486_662u32) * u2 + &u) % &p;
    let exponent = (&p - BigUint::from(1u8)) >> 1u32;
    let euler = v.modpow(&exponent, &p);
    euler <= BigUint::from(1u8)
}

#[cfg(test)]
mod tests {
    use super::is_x25519_point;
    use crate::client::XorShift;

    fn hex32(text: &str) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).unwrap();
        }
        out
    }

    fn small(u: u8) -> [u8; 32] {
        let mut out = [0u8; 32];
        out[0] = u;
        out
    }

    #[test]
    fn base_point_and_zero_are_on_the_curve() {
        assert!(is_x25519_point(&small(9)));
        assert!(is_x25519_point(&small(0)));
    }

    #[test]
    fn rfc7748_public_keys_are_on_the_curve() {
        // §6.1: Alice's and Bob's public keys (9 times their private keys).
        for key in [
            "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
            "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
        ] {
            assert!(is_x25519_point(&hex32(key)), "{key}");
        }
    }

    #[test]
    fn known_twist_values_are_rejected() {
        // Computed independently (Python pow(v, (p-1)/2, p)): u = 2, 3, 5 and
        // the input u of RFC 7748 §5.2's second test vector are twist points;
        // the first test vector's input u is on the curve.
        for u in [2, 3, 5, 12, 14] {
            assert!(!is_x25519_point(&small(u)), "u = {u}");
        }
        let twist = "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493";
        assert!(!is_x25519_point(&hex32(twist)));
        let curve = "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c";
        assert!(is_x25519_point(&hex32(curve)));
    }

    #[test]
    fn the_top_bit_is_ignored() {
        let mut bob = hex32("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
        bob[31] |= 0x80;
        assert!(is_x25519_point(&bob));
        let mut two = small(2);
        two[31] = 0x80;
        assert!(!is_x25519_point(&two));
    }

    #[test]
    fn about_half_of_small_u_are_on_the_curve() {
        // Exactly 100 of 1..=200 (computed independently); wide bounds here.
        let on = (1..=200u8).filter(|&u| is_x25519_point(&small(u))).count();
        assert!((80..=120).contains(&on), "{on} of 200");
    }

    #[test]
    fn about_half_of_random_strings_are_on_the_curve() {
        let mut rng = XorShift::new(0x5eed_2551_9000_0001);
        let samples = 2000;
        let on = (0..samples)
            .filter(|_| {
                let mut u = [0u8; 32];
                rng.fill(&mut u);
                is_x25519_point(&u)
            })
            .count();
        // Binomial(2000, ½): σ ≈ 22; ±150 is about 7σ.
        assert!((850..=1150).contains(&on), "{on} of {samples}");
    }
}
