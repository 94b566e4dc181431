//! The PostgreSQL state backend through the real binary, against a real server: concurrent
//! applies queue on the lock, a killed holder frees it, stale pushes are refused, and state moves
//! between backends byte for byte.

use std::process::Output;
use std::time::{Duration, Instant};

use crate::support::{Project, Run};
use crate::testbed::postgres::database_url;

/// A project on the database at `url` with `count` local hosts whose health check takes a moment.
fn project_on(url: &str, count: usize) -> (Project, String) {
    let project = Project::new();
    let hosts: Vec<String> = (0..count)
        .map(|index| format!("  h{index}: {{ local: true, health: {{ command: [sleep, \"0.2\"] }} }}\n"))
        .collect();
    let text = format!(
        "version: 1\nproject: team\nstate: {{ backend: postgres, url: env:RAVE_PG_URL }}\nhosts:\n{}",
        hosts.concat()
    );
    project.write("rave.yaml", text);
    (project, url.to_owned())
}

/// Runs `rave` in `project` with the database URL set.
fn rave(project: &Project, url: &str, args: &[&str]) -> Run {
    let output = project.command(args).env("RAVE_PG_URL", url).output().expect("run rave");
    project.run_from(&output)
}

#[test]
fn eight_concurrent_applies_queue_and_every_write_is_counted() {
    let (project, url) = project_on(&database_url(), 8);
    let started = Instant::now();
    let children: Vec<_> = (0..8)
        .map(|index| {
            let target = format!("host.h{index}");
            project
                .command(&["apply", "--auto-approve", "--target", &target, "--lock-timeout", "5m"])
                .env("RAVE_PG_URL", &url)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn rave apply")
        })
        .collect();
    let outputs: Vec<Output> = children.into_iter().map(|child| child.wait_with_output().expect("wait")).collect();
    for output in &outputs {
        project.run_from(output).assert_code(0);
    }
    assert!(started.elapsed() < Duration::from_secs(240));

    let listed = rave(&project, &url, &["state", "list"]);
    let expected: Vec<String> = (0..8).map(|index| format!("host.h{index}\n")).collect();
    assert_eq!(listed.stdout, expected.concat());
    let pulled: serde_json::Value = serde_json::from_str(&rave(&project, &url, &["state", "pull"]).stdout).unwrap();
    assert_eq!(pulled["serial"], 8);
    // One at a time: each commit saw every earlier one, so the history counts 1, 2, … 8 resources.
    let history = rave(&project, &url, &["state", "history"]);
    history.assert_code(0);
    let counts: Vec<&str> =
        history.stdout.lines().skip(1).map(|line| line.split_whitespace().nth(1).unwrap_or("")).collect();
    assert_eq!(counts, ["8", "7", "6", "5", "4", "3", "2", "1"], "{}", history.transcript());
    rave(&project, &url, &["plan", "--detailed-exitcode"]).assert_code(0);
}

#[test]
fn a_waiter_without_enough_time_fails_naming_the_holder() {
    let (project, url) = project_on(&database_url(), 1);
    project.write(
        "rave.yaml",
        "version: 1\nproject: team\nstate: { backend: postgres, url: env:RAVE_PG_URL }\n\
         hosts:\n  slow: { local: true, health: { command: [sleep, \"30\"] } }\n",
    );
    let mut holder = project
        .command(&["apply", "--auto-approve", "--lock-timeout", "60s"])
        .env("RAVE_PG_URL", &url)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(30);
    let refused = loop {
        let run = rave(&project, &url, &["plan", "--lock-timeout", "1s"]);
        if run.stderr.contains("state is locked by") || Instant::now() > deadline {
            break run;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    refused.assert_code(1);
    assert!(refused.stderr.contains(&format!("pid {}", holder.id())), "{}", refused.transcript());
    assert!(refused.stderr.contains("waited 1s"), "{}", refused.transcript());
    // Killed with SIGKILL, the holder's session ends and the lock goes with it.
    holder.kill().expect("kill by the pid we started");
    holder.wait().expect("reap");
    let next = rave(&project, &url, &["plan", "--lock-timeout", "30s"]);
    next.assert_code(0);
}

#[test]
fn a_stale_push_is_refused_and_a_fresh_one_is_the_next_serial() {
    let (project, url) = project_on(&database_url(), 2);
    rave(&project, &url, &["apply", "--auto-approve", "--target", "host.h0"]).assert_code(0);
    let pulled = rave(&project, &url, &["state", "pull"]);
    project.write("pulled.json", &pulled.stdout);
    rave(&project, &url, &["apply", "--auto-approve", "--target", "host.h1"]).assert_code(0);

    let stale = rave(&project, &url, &["state", "push", "pulled.json"]);
    stale.assert_code(1);
    assert!(
        stale.stderr.contains("the file is stale: it has serial 1, the state moved on to serial 2"),
        "{}",
        stale.transcript()
    );

    let fresh = rave(&project, &url, &["state", "pull"]).stdout;
    let mut edited: serde_json::Value = serde_json::from_str(&fresh).unwrap();
    edited["resources"].as_object_mut().unwrap().remove("host.h1");
    project.write("edited.json", serde_json::to_string_pretty(&edited).unwrap());
    let pushed = rave(&project, &url, &["state", "push", "edited.json"]);
    pushed.assert_code(0);
    assert!(pushed.stderr.contains("Pushed the state as serial 3 (1 resources)"), "{}", pushed.transcript());
    assert_eq!(rave(&project, &url, &["state", "list"]).stdout, "host.h0\n");

    let mut foreign = edited.clone();
    foreign["lineage"] = "0123456789abcdef0123456789abcdef".into();
    foreign["serial"] = 9.into();
    project.write("foreign.json", serde_json::to_string_pretty(&foreign).unwrap());
    let refused = rave(&project, &url, &["state", "push", "foreign.json"]);
    refused.assert_code(1);
    assert!(refused.stderr.contains("another project's state"), "{}", refused.transcript());

    // Every version is kept and can be shown.
    let old = rave(&project, &url, &["state", "show", "--serial", "2", "host.h1"]);
    old.assert_code(0);
    assert!(old.stdout.contains("\"local\": true"), "{}", old.transcript());
    let missing = rave(&project, &url, &["state", "show", "--serial", "3", "host.h1"]);
    missing.assert_code(1);
    assert!(missing.stderr.contains("`host.h1` is not in the state at serial 3"), "{}", missing.transcript());
}

#[test]
fn migrating_local_to_postgres_and_back_keeps_every_byte() {
    let url = database_url();
    let project = Project::new();
    project.write(
        "rave.yaml",
        "version: 1\nproject: moving\nhosts:\n  a: { local: true, health: { command: [\"true\"] } }\n  \
         b: { local: true, needs: [host.a], health: { command: [\"true\"] } }\n",
    );
    rave(&project, &url, &["apply", "--auto-approve"]).assert_code(0);
    let original = project.read(".rave/state.json");

    let to_postgres = rave(&project, &url, &["state", "migrate", "--to", "postgres"]);
    to_postgres.assert_code(0);
    assert!(to_postgres.stderr.contains("Copied the state (serial 1, 2 resources) to the `postgres` backend"));
    let text = project
        .read("rave.yaml")
        .replace("project: moving\n", "project: moving\nstate: { backend: postgres, url: env:RAVE_PG_URL }\n");
    project.write("rave.yaml", text);
    assert_eq!(rave(&project, &url, &["state", "pull"]).stdout, original);
    rave(&project, &url, &["plan", "--detailed-exitcode"]).assert_code(0);

    let back = rave(&project, &url, &["state", "migrate", "--to", "local", "--path", "back/state.json"]);
    back.assert_code(0);
    assert_eq!(project.read("back/state.json"), original);
    // A second migration into a backend holding other state overwrites nothing.
    rave(&project, &url, &["state", "rm", "host.b"]).assert_code(0);
    let refused = rave(&project, &url, &["state", "migrate", "--to", "local", "--path", "back/state.json"]);
    refused.assert_code(1);
    assert!(refused.stderr.contains("already holds state"), "{}", refused.transcript());
    assert_eq!(project.read("back/state.json"), original);
}

#[test]
fn a_missing_url_variable_and_a_dead_server_are_clear() {
    let (project, _) = project_on("unused", 1);
    let missing = project.command(&["plan"]).env_remove("RAVE_PG_URL").output().expect("run");
    let missing = project.run_from(&missing);
    missing.assert_code(1);
    assert!(missing.stderr.contains("cannot read the state URL `env:RAVE_PG_URL`"), "{}", missing.transcript());
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("postgresql://rave:hunter2@127.0.0.1:{port}/state");
    let dead = rave(&project, &url, &["plan"]);
    dead.assert_code(1);
    assert!(dead.stderr.contains(&format!("database `state` on 127.0.0.1:{port} as `rave`")), "{}", dead.transcript());
    assert!(!dead.stderr.contains("hunter2"), "{}", dead.transcript());
}
