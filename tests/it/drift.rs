//! `rave plan --refresh-only`: drift alone, and an exit code a scheduled pipeline can alert on.

use crate::support::Project;

#[test]
fn a_refresh_only_plan_reports_drift_and_plans_nothing() {
    let project = Project::new();
    project
        .write("rave.yaml", "version: 1\nproject: p\nhosts:\n  a: { local: true, health: { command: [\"true\"] } }\n");
    project.rave(&["apply", "--auto-approve"]).assert_code(0);
    // A resource added to the file is a change, not drift: the refresh-only plan leaves it out.
    project.write(
        "rave.yaml",
        "version: 1\nproject: p\nhosts:\n  a: { local: true, health: { command: [\"true\"] } }\n  \
         b: { local: true }\n",
    );
    let run = project.rave(&["plan", "--refresh-only", "--detailed-exitcode"]);
    run.assert_code(0);
    assert_eq!(run.stdout, "No changes. No objects have changed outside of rave.\n", "{}", run.transcript());
    project.rave(&["plan", "--detailed-exitcode"]).assert_code(2);

    let refused = project.rave(&["plan", "--refresh-only", "--refresh", "false"]);
    refused.assert_code(1);
    assert!(refused.stderr.contains("cannot be used with"), "{}", refused.transcript());
}
