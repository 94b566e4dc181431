//! `rave validate` and the errors every command shows for a bad file.

use crate::support::Project;

#[test]
fn a_valid_file_is_accepted() {
    let project = Project::new();
    project.write("rave.yaml", "version: 1\nproject: p\nhosts:\n  here: { local: true }\n");
    let run = project.rave(&["validate"]);
    run.assert_code(0);
    assert_eq!(run.stderr, "`rave.yaml` is valid: 1 resource\n", "{}", run.transcript());
    assert_eq!(run.stdout, "");
}

#[test]
fn every_problem_is_reported_at_once_with_its_place() {
    let project = Project::new();
    project.write(
        "rave.yaml",
        "version: 1
project: p
hosts:
  shoshin: { local: true }
vms:
  gitlab:
    host: shoshin
    memory: 8GB
  other:
    host: shoshin
    hots: x
",
    );
    let run = project.rave(&["validate"]);
    run.assert_code(1);
    insta::assert_snapshot!("validate_decode_errors", run.transcript());
}

#[test]
fn every_broken_reference_is_reported_at_once() {
    let project = Project::new();
    project.write(
        "rave.yaml",
        "version: 1
project: p
hosts:
  shoshin: { local: true }
vms:
  gitlab: { host: shoshn }
services:
  db: { type: postgresql, runs_on: vm.gitlob, needs: [service.nope] }
",
    );
    let run = project.rave(&["validate"]);
    run.assert_code(1);
    insta::assert_snapshot!("validate_reference_errors", run.transcript());
}

#[test]
fn a_cycle_is_printed() {
    let project = Project::new();
    project.write(
        "rave.yaml",
        "version: 1
project: p
hosts:
  a: { local: true, needs: [host.b] }
  b: { local: true, needs: [host.a] }
",
    );
    let run = project.rave(&["validate"]);
    run.assert_code(1);
    assert!(run.stderr.contains("`host.a -> host.b -> host.a`"), "{}", run.transcript());
}

#[test]
fn a_missing_file_says_what_to_do() {
    let project = Project::new();
    let run = project.rave(&["plan"]);
    run.assert_code(1);
    assert!(run.stderr.contains("error: no `rave.yaml`"), "{}", run.transcript());
    assert!(run.stderr.contains("hint: "), "{}", run.transcript());
}

#[test]
fn hostile_files_fail_fast_and_clearly() {
    let bomb = "version: 1\nproject: p\na: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n";
    let deep = format!("version: 1\nproject: p\nx: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    let cases: [(&str, Vec<u8>); 4] = [
        ("alias bomb", bomb.as_bytes().to_vec()),
        ("deep nesting", deep.into_bytes()),
        ("invalid utf-8", b"version: 1\nproject: \xff\xfe\n".to_vec()),
        ("duplicate key", b"version: 1\nproject: p\nproject: q\n".to_vec()),
    ];
    for (name, bytes) in cases {
        let project = Project::new();
        project.write("rave.yaml", &bytes);
        let started = std::time::Instant::now();
        let run = project.rave(&["validate"]);
        assert_eq!(run.code, Some(1), "{name}:\n{}", run.transcript());
        assert!(run.stderr.contains("rave.yaml:"), "{name} names no place:\n{}", run.transcript());
        assert!(!run.stderr.contains("panicked"), "{name} panicked:\n{}", run.transcript());
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "{name} took {:?}", started.elapsed());
    }
}
