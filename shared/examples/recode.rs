//! Re-encodes existing `.col` files with other writer options and prints each column's size
//! both ways: `cargo run --release -p opentrace-shared --example recode -- FILE.col...`
//! (`OT_ID_LEVEL`, `OT_TEXT_LEVEL` set the options of the second encoding).
use opentrace_shared::chunk::{ChunkBuilder, ChunkOptions, ChunkReader};
use opentrace_shared::schema::Col;

fn level(var: &str) -> Option<i32> {
    std::env::var(var).ok().and_then(|v| v.parse().ok())
}

fn main() {
    let mut other = ChunkOptions::default();
    if let Some(l) = level("OT_ID_LEVEL") {
        other.id_level = l;
    }
    if let Some(l) = level("OT_TEXT_LEVEL") {
        other.text_level = l;
    }
    let mut totals = vec![(0u64, 0u64); Col::all().count()];
    let mut rows_total = 0u64;
    for path in std::env::args().skip(1) {
        let bytes = std::fs::read(&path).expect("file reads");
        let rows = ChunkReader::open(&bytes)
            .expect("chunk opens")
            .rows()
            .expect("rows decode");
        rows_total += rows.len() as u64;
        let build = |o: ChunkOptions| {
            let mut b = ChunkBuilder::with_options(o);
            rows.iter().for_each(|r| b.push(r));
            b.finish().expect("chunk builds")
        };
        let (a, b) = (build(ChunkOptions::default()), build(other));
        let (ra, rb) = (
            ChunkReader::open(&a).expect("a"),
            ChunkReader::open(&b).expect("b"),
        );
        for (i, c) in Col::all().enumerate() {
            totals[i].0 += ra.column_size(c);
            totals[i].1 += rb.column_size(c);
        }
    }
    let per = |b: u64| b as f64 / rows_total.max(1) as f64;
    for (i, c) in Col::all().enumerate() {
        let (a, b) = totals[i];
        if a.max(b) > 0 {
            println!(
                "{:>18} default {:>7.2} B/row  other {:>7.2} B/row",
                c.name(),
                per(a),
                per(b)
            );
        }
    }
    let (a, b) = totals.iter().fold((0, 0), |s, t| (s.0 + t.0, s.1 + t.1));
    println!(
        "{:>18} default {:>7.2} B/row  other {:>7.2} B/row",
        "all columns",
        per(a),
        per(b)
    );
}
