//! Startup cost of the signature database: parsing the embedded files and
//! compiling the SDK matcher (`cargo bench --bench signatures`), and the
//! cost of matching one class name against all signatures.

use criterion::{criterion_group, criterion_main, Criterion};

use appvet::database::Database;

fn bench_load(c: &mut Criterion) {
    c.bench_function("signatures/embedded_load", |b| b.iter(|| Database::embedded().sdks.defs.len()));
    let db = Database::embedded();
    let mut hits = Vec::new();
    c.bench_function("signatures/match_class", |b| {
        b.iter(|| {
            hits.clear();
            db.sdks.match_class("com/umeng/analytics/pro/MobclickAgentImpl$1", &mut hits);
            db.sdks.match_class("androidx/appcompat/widget/AppCompatTextView", &mut hits);
            hits.len()
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench_load
}
criterion_main!(benches);
