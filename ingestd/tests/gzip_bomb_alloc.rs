//! Measures the peak heap growth while a 20 MB gzip bomb is decoded with a 10 MiB cap.
//! A counting global allocator is installed for this test binary only.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use opentrace_ingestd::http::body::{BodyError, Encoding, decode};

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(l) };
        if !p.is_null() {
            let now = CURRENT.fetch_add(l.size(), Ordering::SeqCst) + l.size();
            PEAK.fetch_max(now, Ordering::SeqCst);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) };
        CURRENT.fetch_sub(l.size(), Ordering::SeqCst);
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn bomb() -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let block = vec![b'a'; 1024 * 1024];
    for _ in 0..20 {
        e.write_all(&block).unwrap();
    }
    e.finish().unwrap()
}

/// Decodes and returns (result, peak heap growth in bytes).
fn measure(body: Vec<u8>, cap: usize) -> (Result<Bytes, BodyError>, usize) {
    let body = Bytes::from(body);
    let baseline = CURRENT.load(Ordering::SeqCst);
    PEAK.store(baseline, Ordering::SeqCst);
    let result = decode(body, Encoding::Gzip, cap);
    (result, PEAK.load(Ordering::SeqCst) - baseline)
}

const CAP: usize = 10 * 1024 * 1024;

/// The counters are process-wide: tests in this file run one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

#[test]
fn honest_bomb_is_refused_before_inflating() {
    let _serial = serial();
    let (result, growth) = measure(bomb(), CAP);
    assert_eq!(result.err(), Some(BodyError::DecompressedTooLarge(CAP)));
    assert!(growth < 1024 * 1024, "peak heap growth {growth} bytes");
    println!("honest 20 MB gzip bomb: peak heap growth {growth} bytes (cap {CAP})");
}

#[test]
fn lying_bomb_is_cut_at_the_cap() {
    let _serial = serial();
    // Rewrite the trailer to claim 1 KiB: the decoder must stop at the cap on its own.
    let mut b = bomb();
    let n = b.len();
    b[n - 4..].copy_from_slice(&1024u32.to_le_bytes());
    let (result, growth) = measure(b, CAP);
    assert_eq!(result.err(), Some(BodyError::DecompressedTooLarge(CAP)));
    // hint (1 KiB) + cap, plus the inflater's own state (< 1 MiB).
    assert!(
        growth <= CAP + 1024 * 1024,
        "peak heap growth {growth} bytes for a cap of {CAP}"
    );
    println!("lying 20 MB gzip bomb: peak heap growth {growth} bytes (cap {CAP})");
}

#[test]
fn honest_body_is_one_allocation_of_its_size() {
    let _serial = serial();
    let data = vec![b'x'; 3 * 1024 * 1024];
    let z = {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(&data).unwrap();
        e.finish().unwrap()
    };
    let (result, growth) = measure(z, CAP);
    assert_eq!(result.unwrap().len(), data.len());
    assert!(
        growth <= data.len() + 1024 * 1024,
        "peak heap growth {growth}"
    );
}
