//! The first-admin slot is decided by a database constraint: many threads, each with its
//! own SQLite connection, race to register; exactly one admin results.

use std::sync::{Arc, Barrier};

use opentrace_queryd::platform::audit::Actor;
use opentrace_queryd::platform::users::FirstAdmin;
use opentrace_queryd::platform::{Platform, Role};

#[test]
fn first_admin_race_across_connections() {
    let dir = tempfile::tempdir().unwrap();
    drop(Platform::open(dir.path()).unwrap());
    let n = 16;
    let barrier = Arc::new(Barrier::new(n));
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let path = dir.path().to_path_buf();
            let b = barrier.clone();
            std::thread::spawn(move || {
                let p = Platform::open(&path).unwrap();
                b.wait();
                p.register_first_admin(&format!("a{i}@example.com"), "hash", &[], &Actor::default())
                    .unwrap()
            })
        })
        .collect();
    let results: Vec<FirstAdmin> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let created = results
        .iter()
        .filter(|r| matches!(r, FirstAdmin::Created(_)))
        .count();
    assert_eq!(created, 1);
    let p = Platform::open(dir.path()).unwrap();
    let users = p.list_users().unwrap();
    assert_eq!(users.len(), 1, "losers' user rows were rolled back");
    assert_eq!(users[0].role, Role::Admin);
}

#[test]
fn cli_admin_takes_the_first_admin_slot() {
    let dir = tempfile::tempdir().unwrap();
    let p = Platform::open(dir.path()).unwrap();
    p.create_user("op@example.com", "h", Role::Admin, &[], &Actor::operator())
        .unwrap();
    let r = p
        .register_first_admin("late@example.com", "h", &[], &Actor::default())
        .unwrap();
    assert_eq!(r, FirstAdmin::AlreadyTaken);
}

#[test]
fn last_admin_cannot_be_demoted_or_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let p = Platform::open(dir.path()).unwrap();
    let a = p
        .create_user("a@example.com", "h", Role::Admin, &[], &Actor::operator())
        .unwrap();
    assert!(
        p.update_role(a.id, Role::Member, &Actor::operator())
            .is_err()
    );
    assert!(p.delete_user(a.id, &Actor::operator()).is_err());
    assert!(p.set_active(a.id, false, &Actor::operator()).is_err());
}
