use std::net::IpAddr;

use chrono::{Duration, Utc};

use argon2::password_hash::{PasswordHasher, PasswordVerifier};

use super::*;
use crate::limits::sign_in::{ATTEMPTS, WINDOW_SECONDS};

/// A PBKDF2 hash as carnetd wrote them before Argon2id.
fn pbkdf2_hash(password: &str, iterations: u32) -> String {
    let salt = [7u8; 16];
    let mut out = [0u8; 32];
    pbkdf2::derive(
        pbkdf2::PBKDF2_HMAC_SHA256,
        NonZeroU32::new(iterations).unwrap(),
        &salt,
        password.as_bytes(),
        &mut out,
    );
    format!(
        "pbkdf2-sha256${iterations}${}${}",
        BASE64URL_NOPAD.encode(&salt),
        BASE64URL_NOPAD.encode(&out)
    )
}

/// An Argon2id hash with these costs, made by hand (the salt and hash need not match).
fn argon2_with(m: u64, t: u64, p: u64) -> String {
    format!(
        "$argon2id$v=19$m={m},t={t},p={p}$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA"
    )
}

#[test]
fn a_password_verifies_only_against_its_own_argon2id_hash() {
    let h = hash("correct horse battery");
    assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
    assert_eq!(
        verify(&h, "correct horse battery"),
        Ok(Verdict::Right { rehash: false })
    );
    assert_eq!(verify(&h, "correct horse batterY"), Ok(Verdict::Wrong));
    assert!(verify("garbage", "x").is_err());
    assert_ne!(h, hash("correct horse battery"), "salted");
}

#[test]
fn an_old_pbkdf2_hash_verifies_and_asks_to_be_rehashed() {
    let h = pbkdf2_hash("correct horse battery", 300_000);
    assert_eq!(
        verify(&h, "correct horse battery"),
        Ok(Verdict::Right { rehash: true })
    );
    assert_eq!(verify(&h, "wrong"), Ok(Verdict::Wrong));
}

#[test]
fn pbkdf2_iteration_counts_above_the_limit_are_refused_uncomputed() {
    assert!(check(&pbkdf2_hash("x", 1000)).is_ok());
    let hostile = format!("pbkdf2-sha256${}$AAAA$AAAA", u32::MAX);
    assert_eq!(
        check(&hostile),
        Err(Unusable::TooCostly {
            what: "a PBKDF2 iteration count of",
            found: u32::MAX.into(),
            max: MAX_PBKDF2_ITERATIONS.into(),
        })
    );
    // Refused before the 2^32-1 iterations would run: this returns at once.
    assert!(verify(&hostile, "x").is_err());
    let just_over = format!("pbkdf2-sha256${}$AAAA$AAAA", MAX_PBKDF2_ITERATIONS + 1);
    assert!(matches!(check(&just_over), Err(Unusable::TooCostly { .. })));
    assert!(check("pbkdf2-sha256$99999999999999999999$AAAA$AAAA").is_err());
    assert!(check("pbkdf2-sha256$0$AAAA$AAAA").is_err());
}

#[test]
fn argon2_costs_above_the_limits_are_refused_and_at_them_accepted() {
    assert!(
        check(&argon2_with(
            MAX_M_KIB.into(),
            MAX_T_COST.into(),
            MAX_P_COST.into()
        ))
        .is_ok()
    );
    for (m, t, p, what) in [
        (u64::from(MAX_M_KIB) + 1, 2, 1, "a memory cost (m, KiB) of"),
        (4_194_304, 2, 1, "a memory cost (m, KiB) of"),
        (19_456, u64::from(MAX_T_COST) + 1, 1, "a time cost (t) of"),
        (19_456, 2, u64::from(MAX_P_COST) + 1, "a parallelism (p) of"),
    ] {
        match check(&argon2_with(m, t, p)) {
            Err(Unusable::TooCostly { what: w, .. }) => assert_eq!(w, what, "m={m} t={t} p={p}"),
            other => panic!("m={m} t={t} p={p}: {other:?}"),
        }
    }
    let refused = check(&argon2_with(1 << 20, 2, 1)).unwrap_err().to_string();
    assert!(refused.contains("65536"), "names the limit: {refused}");
}

#[test]
fn other_algorithms_and_malformed_hashes_are_refused() {
    for h in [
        "$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA",
        "$argon2id$v=19$m=19456,t=2$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA",
        "$argon2id$v=19$m=19456,t=2,p=1",
        "$scrypt$ln=17,r=8,p=1$c2FsdA$aGFzaA",
        "",
    ] {
        assert!(matches!(check(h), Err(Unusable::Malformed(_))), "{h}");
    }
    assert!(check(&"a".repeat(MAX_STORED_LEN + 1)).is_err());
}

#[test]
fn an_argon2id_hash_with_other_costs_verifies_and_asks_to_be_rehashed() {
    let params = Params::new(8 * 1024, 1, 1, None).unwrap();
    let salt = SaltString::encode_b64(&[9u8; 16]).unwrap();
    let h = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password(b"pw pw pw pw", &salt)
        .unwrap()
        .to_string();
    assert_eq!(
        verify(&h, "pw pw pw pw"),
        Ok(Verdict::Right { rehash: true })
    );
}

#[test]
fn what_carnetd_writes_is_a_phc_string_the_argon2_crate_verifies_itself() {
    let h = hash("correct horse battery staple");
    assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
    let parsed = PasswordHash::new(&h).unwrap();
    assert!(
        current()
            .verify_password(b"correct horse battery staple", &parsed)
            .is_ok()
    );
    assert!(
        current()
            .verify_password(b"correct horse", &parsed)
            .is_err()
    );
    assert_eq!(
        verify(&h, "correct horse battery staple"),
        Ok(Verdict::Right { rehash: false })
    );
    assert_eq!(
        verify(&h, "correct horse battery stapler"),
        Ok(Verdict::Wrong)
    );
}

#[test]
fn argon2s_memory_is_allocated_past_the_mmap_threshold_and_touched_only_as_used() {
    let memory = argon2_memory(19 * 1024);
    assert_eq!(memory.len(), 19 * 1024);
    assert!(memory.capacity() * std::mem::size_of::<Block>() > 32 << 20);
}

#[test]
fn attempts_are_limited_per_address_and_window() {
    let a = SignInAttempts::default();
    let ip: IpAddr = "192.0.2.1".parse().unwrap();
    let other: IpAddr = "192.0.2.2".parse().unwrap();
    let t = Utc::now();
    for _ in 0..ATTEMPTS {
        assert!(a.take(ip, t).is_ok());
    }
    assert!(a.take(ip, t).is_err());
    assert!(a.take(other, t).is_ok());
    assert!(a.take(ip, t + Duration::seconds(WINDOW_SECONDS)).is_ok());
}

#[tokio::test]
async fn the_queue_refuses_beyond_four_waiting_per_lane_and_runs_one_at_a_time() {
    let q = std::sync::Arc::new(SlowHashes::default());
    let held = q.hold().expect("the slot is free");
    assert!(q.hold().is_none(), "one at a time");
    let mut waiting = Vec::new();
    for _ in 0..MAX_WAITING {
        let q = q.clone();
        waiting.push(tokio::spawn(async move { q.run(Lane::SignIn, || 1).await }));
    }
    let qq = q.clone();
    tokio::task::spawn_blocking(move || qq.block_until_waiting(Lane::SignIn, MAX_WAITING))
        .await
        .unwrap();
    assert!(matches!(
        q.run(Lane::SignIn, || 1).await,
        Err(Refused::Busy { retry_after: 1 })
    ));
    // The owner's lane is its own.
    let owner = {
        let q = q.clone();
        tokio::spawn(async move { q.run(Lane::Owner, || 2).await })
    };
    let qq = q.clone();
    tokio::task::spawn_blocking(move || qq.block_until_waiting(Lane::Owner, 1))
        .await
        .unwrap();
    drop(held);
    for w in waiting {
        assert_eq!(w.await.unwrap().unwrap(), 1);
    }
    assert_eq!(owner.await.unwrap().unwrap(), 2);
    assert_eq!(q.waiting(Lane::SignIn), 0);
}
