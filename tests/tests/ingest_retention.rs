//! Retention over the real `opentrace-ingestd`: with `retention_days` in settings.json, a
//! sealed hour older than the cutoff is deleted whole (at start-up and when the setting
//! changes while running), while newer hours and the current hour's data stay.

use std::time::{Duration, Instant};

use opentrace_shared::HourId;
use opentrace_shared::datadir::{DataDir, publish_file};
use opentrace_shared::meta::HourMetaBuilder;
use opentrace_shared::settings::Settings;
use opentrace_shared::time::now_micros;
use opentrace_tests::ingest_client::{Sdk, post_as_sdk};
use opentrace_tests::ingestd::Ingestd;

/// A sealed, empty hour directory `hours_ago` hours before now.
fn sealed_hour(dd: &DataDir, hours_ago: i64) -> HourId {
    let h = HourId(HourId::from_micros(now_micros()).0 - hours_ago);
    let dir = dd.hour_dir(h);
    std::fs::create_dir_all(&dir).unwrap();
    let meta = HourMetaBuilder::new(h).finish(now_micros());
    publish_file(&dir, "meta.json", &meta.to_json()).unwrap();
    h
}

fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_sealed_hours_are_deleted_and_recent_ones_kept() {
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let dd = DataDir::new(&data);
    let very_old = sealed_hour(&dd, 24 * 10);
    let old = sealed_hour(&dd, 24 * 3 + 1);
    let recent = sealed_hour(&dd, 5);
    let mut settings = Settings {
        retention_days: Some(7),
        ..Settings::default()
    };
    settings.store(&dd.settings_path()).unwrap();

    let mut ingestd = Ingestd::start(work.path(), &["--retention-interval-secs", "1"]).unwrap();
    let body = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sdk/node-0.2.0-log.json"),
    )
    .unwrap();
    let (resp, _) = post_as_sdk(&ingestd.url(), &ingestd.api_key, Sdk::Node020, None, &body)
        .await
        .unwrap();
    assert_eq!(resp.status / 100, 2, "post failed: {}", resp.json);

    // At start-up: only the hour beyond 7 days goes.
    wait_until(
        "the 10-day-old hour to be deleted",
        Duration::from_secs(10),
        || !dd.hour_dir(very_old).exists(),
    );
    assert!(
        dd.hour_dir(old).exists(),
        "a 3-day-old hour must survive 7-day retention"
    );
    assert!(dd.hour_dir(recent).exists());

    // The setting changes while running (queryd rewrites settings.json): 1 day.
    settings.retention_days = Some(1);
    settings.store(&dd.settings_path()).unwrap();
    wait_until(
        "the 3-day-old hour to be deleted",
        Duration::from_secs(15),
        || !dd.hour_dir(old).exists(),
    );
    assert!(
        dd.hour_dir(recent).exists(),
        "a 5-hour-old hour must survive 1-day retention"
    );
    let current = HourId::from_micros(now_micros());
    let st = ingestd.sigterm(Duration::from_secs(20)).unwrap();
    assert!(st.success(), "ingestd exited with {st}");
    // The current hour (or the previous one, at an hour boundary) still holds the posted row.
    let kept = [current, HourId(current.0 - 1)]
        .iter()
        .any(|h| dd.hour_dir(*h).exists());
    assert!(
        kept,
        "the current hour's data must never be deleted by retention"
    );
}
