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
        "viz/src",
        "bridge/src",
    ] {
        rust_files(&root.join(dir), &mut files);
    }
    for t in [
        "tests/integration/main.rs",
        "actors/tests/integration/main.rs",
        "scenarios/tests/integration/main.rs",
        "viz/tests/integration/main.rs",
        "bridge/tests/integration/main.rs",
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

/// Every crate of the workspace, by its directory.
const CRATES: [&str; 7] = [
    ".",
    "twin",
    "actors",
    "scenarios",
    "benches",
    "viz",
    "bridge",
];

#[test]
fn one_integration_test_binary_per_crate() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for krate in CRATES {
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

fn read(rel: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(root.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Every member of every vocabulary in `twin/src/kinds.rs` (the `X => "name"` arms of
/// its `vocabulary!` blocks), in backticks or as a word.
fn vocabulary_names(kinds: &str) -> Vec<String> {
    let mut names = Vec::new();
    for block in kinds.split("vocabulary! {").skip(1) {
        for arm in block.split("=> \"").skip(1) {
            let name: String = arm.chars().take_while(|&c| c != '"').collect();
            if !name.is_empty() && !names.contains(&name) {
                names.push(name);
            }
        }
    }
    names
}

fn is_word_in(text: &str, word: &str) -> bool {
    let bytes = text.as_bytes();
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    text.match_indices(word).any(|(i, _)| {
        let before = i.checked_sub(1).map(|j| bytes[j]);
        let after = bytes.get(i + word.len()).copied();
        !before.is_some_and(ident) && !after.is_some_and(ident)
    })
}

#[test]
fn every_member_of_every_vocabulary_is_documented_in_model_md() {
    let names = vocabulary_names(&read("twin/src/kinds.rs"));
    assert!(names.len() > 60, "found only {names:?}");
    let model = read("docs/MODEL.md");
    let missing: Vec<&String> = names.iter().filter(|n| !is_word_in(&model, n)).collect();
    assert!(
        missing.is_empty(),
        "docs/MODEL.md does not mention {missing:?}"
    );
}

fn leaf_paths(t: &toml::Table, prefix: &str, out: &mut Vec<String>) {
    for (k, v) in t {
        let path = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(inner) => leaf_paths(inner, &path, out),
            _ => out.push(path),
        }
    }
}

#[test]
fn every_parameter_is_documented_in_model_md() {
    let params: toml::Table = read("twin/parameters.toml").parse().unwrap();
    let mut paths = Vec::new();
    leaf_paths(&params, "", &mut paths);
    assert!(paths.len() > 500, "found only {} parameters", paths.len());
    let model = read("docs/MODEL.md");
    // Paths written with a placeholder segment, like `buildings.<age>.floors_min`.
    let patterns: Vec<Vec<&str>> = model
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|t| t.contains('<') && t.contains('.'))
        .map(|t| t.split('.').collect())
        .collect();
    let matches = |pattern: &[&str], path: &str| {
        let segs: Vec<&str> = path.split('.').collect();
        segs.len() == pattern.len()
            && pattern
                .iter()
                .zip(&segs)
                .all(|(p, s)| p.starts_with('<') || p == s)
    };
    // A parameter is documented when MODEL.md names its full path (or a placeholder
    // path covering it), or its key in backticks next to its table (e.g. `rate` in the
    // incidents table).
    let missing: Vec<&String> = paths
        .iter()
        .filter(|p| {
            let key = p.rsplit('.').next().unwrap();
            let table = p.split('.').next().unwrap();
            !(model.contains(p.as_str())
                || patterns.iter().any(|pat| matches(pat, p))
                || (model.contains(&format!("`{key}`")) && model.contains(table)))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "docs/MODEL.md does not document {missing:?}"
    );
}

#[test]
fn no_test_is_ignored_or_expected_to_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in [
        "src",
        "tests",
        "twin",
        "actors",
        "scenarios",
        "benches",
        "viz",
    ] {
        rust_files(&root.join(dir), &mut files);
    }
    // Built from pieces so this file does not match itself.
    let banned = [concat!("#[", "ignore"), concat!("#[", "should_panic")];
    let found: Vec<String> = files
        .iter()
        .filter(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            banned.iter().any(|b| text.contains(b))
        })
        .map(|f| f.strip_prefix(root).unwrap().display().to_string())
        .collect();
    assert!(
        found.is_empty(),
        "ignored or should_panic tests in {found:?}"
    );
}

#[test]
fn every_dependency_is_used() {
    for krate in CRATES {
        let manifest: toml::Table = read(&format!("{krate}/Cargo.toml")).parse().unwrap();
        let Some(deps) = manifest.get("dependencies").and_then(|d| d.as_table()) else {
            continue;
        };
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(krate);
        let mut files = Vec::new();
        for dir in ["src", "benches", "tests"] {
            if root.join(dir).exists() {
                rust_files(&root.join(dir), &mut files);
            }
        }
        let code: String = files
            .iter()
            .map(|f| std::fs::read_to_string(f).unwrap())
            .collect();
        let unused: Vec<&String> = deps
            .keys()
            .filter(|d| {
                let name = d.replace('-', "_");
                !(code.contains(&format!("{name}::")) || code.contains(&format!("use {name}")))
            })
            .collect();
        assert!(
            unused.is_empty(),
            "{krate}/Cargo.toml: unused dependencies {unused:?}"
        );
    }
}

#[test]
fn only_the_viewer_knows_bevy() {
    for krate in [".", "twin", "actors", "scenarios", "benches", "bridge"] {
        let manifest: toml::Table = read(&format!("{krate}/Cargo.toml")).parse().unwrap();
        for section in ["dependencies", "dev-dependencies", "build-dependencies"] {
            let Some(deps) = manifest.get(section).and_then(|d| d.as_table()) else {
                continue;
            };
            for name in deps.keys() {
                assert!(
                    !name.starts_with("bevy") && name != "civitas-viz",
                    "{krate}/Cargo.toml [{section}] names {name}: only viz/ may compile bevy"
                );
            }
        }
    }
    let viz: toml::Table = read("viz/Cargo.toml").parse().unwrap();
    assert!(viz["dependencies"].as_table().unwrap().contains_key("bevy"));
}

#[test]
fn vocabulary_names_are_read_from_the_macro_arms() {
    let text = "vocabulary! {\n  A {\n    X => \"x_one\",\n    Y => \"y\"\n  }\n}\nfn f() { Z => \"not\" }";
    // The block runs to the end of the text here; only the arms count, duplicates once.
    assert_eq!(
        vocabulary_names(text)[..2],
        ["x_one".to_string(), "y".to_string()]
    );
    assert!(is_word_in("a `fire` b", "fire"));
    assert!(!is_word_in("fire_rescue", "fire"));
}
