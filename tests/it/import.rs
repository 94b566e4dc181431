//! `rave import`: adopting a resource that exists already records it without acting on it.

use crate::support::Project;

#[test]
fn an_imported_host_is_managed_without_being_created() {
    let project = Project::new();
    project.write(
        "rave.yaml",
        "version: 1\nproject: p\nhosts:\n  here: { local: true, health: { command: [\"true\"] } }\n",
    );
    let imported = project.rave(&["import", "host.here", "localhost"]);
    imported.assert_code(0);
    assert!(
        imported.stderr.contains("Imported `host.here` (id `localhost`) into the state at serial 1"),
        "{}",
        imported.transcript()
    );
    let shown = project.rave(&["state", "show", "host.here"]);
    assert!(shown.stdout.contains("\"imported_id\": \"localhost\""), "{}", shown.transcript());
    let plan = project.rave(&["plan", "--target", "host.here", "--detailed-exitcode"]);
    plan.assert_code(0);

    for (args, message) in [
        (["import", "host.here", "localhost"], "`host.here` is already in the state"),
        (["import", "host.there", "x"], "`host.there` is not declared in the file"),
        (["import", "builder.b", "x"], "`builder.b` cannot be imported: only VMs, hosts and caches can"),
    ] {
        let run = project.rave(&args);
        run.assert_code(1);
        assert!(run.stderr.contains(message), "{}", run.transcript());
    }
}
