use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn every_crate_and_module_opens_with_a_doc_comment() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in [
        "src",
        "twin/src",
        "actors/src",
        "scenarios/src",
        "benches/src",
        "benches/benches",
    ] {
        rust_files(&root.join(dir), &mut files);
    }
    for t in [
        "tests/integration/main.rs",
        "actors/tests/integration/main.rs",
        "scenarios/tests/integration/main.rs",
    ] {
        files.push(root.join(t));
    }
    assert!(files.len() > 20);
    let missing: Vec<String> = files
        .iter()
        .filter(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            let first = text.lines().find(|l| !l.starts_with("#![")).unwrap_or("");
            !first.starts_with("//!")
        })
        .map(|f| f.strip_prefix(root).unwrap().display().to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "files without a //! opening: {missing:?}"
    );
}

#[test]
fn one_integration_test_binary_per_crate() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for krate in [".", "twin", "actors", "scenarios", "benches"] {
        let tests = root.join(krate).join("tests");
        if !tests.exists() {
            continue;
        }
        let top: Vec<String> = std::fs::read_dir(&tests)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".rs"))
            .collect();
        assert!(
            top.is_empty(),
            "{krate}/tests has top-level test files {top:?}; put them under tests/integration/"
        );
    }
}
