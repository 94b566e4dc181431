//! Services health-checked for real: `nats-server` and `redis-server` on 127.0.0.1, probed with
//! their types' default checks.

use crate::support::Project;
use crate::testbed::local_service::LocalService;

/// NATS and Redis on the machine rave runs on, with no `health:`: their types' probes apply;
/// `service.app` needs Redis.
fn services_file(nats: &LocalService, redis: &LocalService) -> String {
    format!(
        "version: 1
project: p
hosts:
  here: {{ local: true }}
services:
  nats: {{ type: nats, runs_on: host.here, port: {nats_port}, settings: {{ http_port: {monitoring} }} }}
  redis: {{ type: redis, runs_on: host.here, port: {redis_port} }}
  app: {{ type: nginx, runs_on: host.here, needs: [service.redis], health: {{ command: [\"true\"] }} }}
",
        nats_port = nats.port,
        monitoring = nats.monitoring_port.expect("monitoring port"),
        redis_port = redis.port,
    )
}

#[test]
fn nats_and_redis_pass_their_default_probes() {
    let (nats, redis) = (LocalService::nats(), LocalService::redis());
    let project = Project::new();
    project.write("rave.yaml", services_file(&nats, &redis));
    let run = project.rave(&["apply", "--auto-approve"]);
    run.assert_code(0);
    let monitoring = nats.monitoring_port.expect("monitoring port");
    for expected in [
        format!("service.nats: health check 1/3: http://127.0.0.1:{monitoring}/healthz answered 200"),
        format!("service.redis: health check 1/3: tcp 127.0.0.1:{} accepted a connection", redis.port),
    ] {
        assert!(run.stderr.contains(&expected), "no `{expected}` in\n{}", run.transcript());
    }
}

#[test]
fn a_stopped_redis_fails_its_node_and_skips_what_needs_it() {
    let (nats, mut redis) = (LocalService::nats(), LocalService::redis());
    redis.stop();
    let project = Project::new();
    project.write("rave.yaml", services_file(&nats, &redis));
    let run = project.rave(&["apply", "--auto-approve"]);
    run.assert_code(1);
    let failure = format!(
        "service.redis: create failed: health check failed: tcp 127.0.0.1:{} refused the connection",
        redis.port
    );
    assert!(run.stdout.contains(&failure), "no `{failure}` in\n{}", run.transcript());
    assert!(run.stdout.contains("Apply failed: 1 failed, 1 skipped."), "{}", run.transcript());
    assert_eq!(project.rave(&["state", "list"]).stdout, "host.here\nservice.nats\n");
}

#[test]
fn status_shows_each_service_live_without_planning() {
    let (nats, mut redis) = (LocalService::nats(), LocalService::redis());
    let project = Project::new();
    project.write("rave.yaml", services_file(&nats, &redis));
    project.rave(&["status"]).assert_code(0);
    redis.stop();
    let run = project.rave(&["status"]);
    run.assert_code(1);
    let monitoring = nats.monitoring_port.expect("monitoring port");
    let stdout = run.stdout.replace(&monitoring.to_string(), "[M]").replace(&redis.port.to_string(), "[R]");
    // Without the time the retries took.
    let stdout: Vec<&str> = stdout.lines().map(|line| line.split(" in ").next().unwrap_or(line)).collect();
    let stdout = stdout.join("\n");
    insta::assert_snapshot!(stdout, @r"
        host.here      unchecked  declares no `health`
        service.app    healthy    `true` succeeded
        service.nats   healthy    http://127.0.0.1:[M]/healthz answered 200
        service.redis  unhealthy  health check failed: tcp 127.0.0.1:[R] refused the connection
                         gave up after 3 attempts

        2 healthy, 1 unhealthy, 1 unchecked.
    ");
    assert!(!project.path().join(".rave/state.json").exists(), "status records nothing");
}
