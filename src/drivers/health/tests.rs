//! Health checks against real servers and programs on this machine (127.0.0.1 only).

use std::time::Duration;

use serde_json::json;

use super::*;
use crate::apply::Stream;
use crate::drivers::test_support::{closed_port, drain, logged, progress, reply, serve_http, serve_silence, sink};

fn health(value: serde_json::Value) -> HealthCheck {
    serde_json::from_value(value).unwrap()
}

/// Runs `check` locally and returns its result and the progress messages it sent.
async fn run_check(check_spec: &HealthCheck) -> (Result<(), DriverError>, Vec<String>) {
    let (events, mut receiver) = sink("service.web");
    let result = check(check_spec, &Placement::Local, &events).await.map(drop);
    (result, progress(&drain(&mut receiver)))
}

#[tokio::test]
async fn an_http_check_passes_when_the_server_answers_200() {
    let (address, mut requests) = serve_http(vec![reply(200, "ok")]).await;
    let url = format!("http://{address}/healthz?full=1");
    let (result, messages) = run_check(&health(json!({ "http": url }))).await;
    assert_eq!(result, Ok(()));
    assert_eq!(messages, [format!("health check 1/3: {url} answered 200")]);
    let request = requests.recv().await.unwrap();
    assert!(request.starts_with(&format!("GET /healthz?full=1 HTTP/1.1\r\nHost: {address}\r\n")), "{request}");
    assert!(request.contains("\r\nConnection: close\r\n"), "{request}");
}

#[tokio::test]
async fn an_http_check_retries_until_the_server_is_healthy() {
    let (address, _) = serve_http(vec![reply(503, "starting"), reply(503, "starting"), reply(200, "ok")]).await;
    let url = format!("http://{address}/healthz");
    let (result, messages) = run_check(&health(json!({ "http": url }))).await;
    assert_eq!(result, Ok(()));
    assert_eq!(
        messages,
        [
            format!("health check 1/3: {url} answered 503, expected 200"),
            format!("health check 2/3: {url} answered 503, expected 200"),
            format!("health check 3/3: {url} answered 200"),
        ]
    );
}

#[tokio::test]
async fn a_failing_http_check_names_the_url_and_the_last_answer() {
    let (address, _) = serve_http(vec![reply(503, "down")]).await;
    let url = format!("http://{address}/healthz");
    let (result, messages) = run_check(&health(json!({ "http": url, "retries": 2 }))).await;
    let error = result.unwrap_err();
    assert_eq!(error.summary, format!("health check failed: {url} answered 503, expected 200"));
    assert_eq!(error.details.len(), 1);
    assert!(error.details[0].starts_with("gave up after 2 attempts in "), "{error}");
    assert_eq!(messages.len(), 2);
}

#[tokio::test]
async fn the_expected_status_and_body_are_checked() {
    let (address, _) = serve_http(vec![reply(204, "")]).await;
    let (result, _) = run_check(&health(json!({ "http": format!("http://{address}/"), "expect": 204 }))).await;
    assert_eq!(result, Ok(()));

    let (address, _) = serve_http(vec![reply(200, "{\"status\":\"starting\"}")]).await;
    let url = format!("http://{address}/");
    let (result, _) = run_check(&health(json!({ "http": url, "body": "ready", "retries": 1 }))).await;
    assert_eq!(
        result.unwrap_err().summary,
        format!("health check failed: {url} answered 200, but without `ready` in its body")
    );

    let chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n{\"status\r\n9\r\n\":\"ready\"\r\n1\r\n}\r\n0\r\n\r\n";
    let (address, _) = serve_http(vec![chunked.to_owned()]).await;
    let check_spec = health(json!({ "http": format!("http://{address}/"), "body": "\"status\":\"ready\"" }));
    assert_eq!(run_check(&check_spec).await.0, Ok(()));
}

#[tokio::test]
async fn https_is_refused_at_once() {
    let started = std::time::Instant::now();
    let (result, messages) = run_check(&health(json!({ "http": "https://127.0.0.1:1/health" }))).await;
    assert_eq!(
        result.unwrap_err().summary,
        "https health checks are not supported yet: `https://127.0.0.1:1/health` needs a TLS client, planned with \
         remote hosts; use an `http://` URL or a `tcp:` check"
    );
    assert!(messages.is_empty());
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[tokio::test]
async fn an_http_check_of_a_closed_port_cannot_reach_it() {
    let url = format!("http://127.0.0.1:{}/", closed_port());
    let (result, messages) = run_check(&health(json!({ "http": url, "retries": 1 }))).await;
    let error = result.unwrap_err();
    assert!(error.summary.starts_with(&format!("health check failed: {url} could not be reached: ")), "{error}");
    assert!(error.details[0].starts_with("gave up after 1 attempt in "), "{error}");
    assert_eq!(messages.len(), 1);
}

#[tokio::test]
async fn a_server_that_never_answers_is_given_up_on_within_the_timeout() {
    let address = serve_silence().await;
    let url = format!("http://{address}/");
    let started = std::time::Instant::now();
    let (result, messages) = run_check(&health(json!({ "http": url, "timeout": "2s", "retries": 2 }))).await;
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(1500) && elapsed < Duration::from_secs(4), "took {elapsed:?}");
    let error = result.unwrap_err();
    assert!(error.summary.starts_with(&format!("health check failed: {url} did not answer within ")), "{error}");
    assert_eq!(messages.len(), 2);
    assert!(messages[0].starts_with(&format!("health check 1/2: {url} did not answer within ")), "{messages:?}");
}

#[tokio::test]
async fn a_tcp_check_connects_or_is_refused() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let open = listener.local_addr().unwrap();
    let (result, messages) = run_check(&health(json!({ "tcp": open.to_string() }))).await;
    assert_eq!(result, Ok(()));
    assert_eq!(messages, [format!("health check 1/3: tcp {open} accepted a connection")]);

    let closed = format!("127.0.0.1:{}", closed_port());
    let (result, messages) = run_check(&health(json!({ "tcp": closed, "retries": 2 }))).await;
    assert_eq!(result.unwrap_err().summary, format!("health check failed: tcp {closed} refused the connection"));
    assert_eq!(
        messages,
        [
            format!("health check 1/2: tcp {closed} refused the connection"),
            format!("health check 2/2: tcp {closed} refused the connection"),
        ]
    );
}

#[tokio::test]
async fn a_malformed_target_fails_before_any_attempt() {
    let (result, messages) = run_check(&health(json!({ "tcp": "nope" }))).await;
    assert_eq!(result.unwrap_err().summary, "`nope` has no port: write `host:port`");
    assert!(messages.is_empty());
    let (result, _) = run_check(&health(json!({ "command": [] }))).await;
    assert_eq!(result.unwrap_err().summary, "a `command` health check needs a program to run");
    let (result, _) = run_check(&health(json!({ "tcp": "a:1", "http": "http://a/" }))).await;
    assert_eq!(result.unwrap_err().summary, "a health check has exactly one of `http`, `tcp` or `command`");
}

#[tokio::test]
async fn a_command_check_passes_when_the_command_does() {
    let (result, messages) = run_check(&health(json!({ "command": ["true"] }))).await;
    assert_eq!(result, Ok(()));
    assert_eq!(messages, ["health check 1/3: `true` succeeded"]);
}

#[tokio::test]
async fn a_failing_command_check_shows_what_the_command_said() {
    let (events, mut receiver) = sink("host.workstation");
    let check_spec = health(json!({ "command": ["sh", "-c", "echo degraded; exit 1"], "retries": 2 }));
    let error = check(&check_spec, &Placement::Local, &events).await.unwrap_err();
    assert_eq!(error.summary, "health check failed: `sh -c 'echo degraded; exit 1'` failed with exit code 1");
    assert!(error.details[0].starts_with("gave up after 2 attempts in "), "{error}");
    assert_eq!(error.details[1..], ["command: sh -c 'echo degraded; exit 1'", "last lines of stdout:", "  degraded"]);
    let all = drain(&mut receiver);
    assert_eq!(logged(&all, Stream::Stdout), ["degraded", "degraded"]);
    assert_eq!(
        progress(&all),
        [
            "health check 1/2: `sh -c 'echo degraded; exit 1'` failed with exit code 1",
            "health check 2/2: `sh -c 'echo degraded; exit 1'` failed with exit code 1",
        ]
    );
}

#[tokio::test]
async fn a_missing_command_is_not_retried() {
    let (result, messages) = run_check(&health(json!({ "command": ["rave-test-no-such-check", "--now"] }))).await;
    let error = result.unwrap_err();
    assert_eq!(
        error.summary,
        "health check failed: `rave-test-no-such-check --now` could not run: `rave-test-no-such-check` is not \
         installed or not on PATH"
    );
    assert!(error.details.is_empty(), "{error}");
    assert_eq!(messages.len(), 1);
}

#[tokio::test]
async fn a_hanging_command_is_stopped_at_the_timeout() {
    let started = std::time::Instant::now();
    let (result, _) = run_check(&health(json!({ "command": ["sleep", "30"], "timeout": "1s", "retries": 1 }))).await;
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    let summary = result.unwrap_err().summary;
    assert!(summary.starts_with("health check failed: `sleep 30` did not finish within "), "{summary}");
}

#[tokio::test]
async fn retries_stop_at_the_time_limit() {
    let started = std::time::Instant::now();
    let (result, messages) = run_check(&health(json!({ "command": ["false"], "timeout": "1s", "retries": 10 }))).await;
    assert!(started.elapsed() < Duration::from_secs(1), "took {:?}", started.elapsed());
    let error = result.unwrap_err();
    assert_eq!(error.summary, "health check failed: `false` failed with exit code 1");
    assert_eq!(error.details[0], "gave up after 2 attempts, at its time limit of 1s");
    assert_eq!(
        messages,
        ["health check 1/10: `false` failed with exit code 1", "health check 2/10: `false` failed with exit code 1"]
    );
}

#[tokio::test]
async fn checks_run_in_order_and_stop_at_the_first_failure() {
    let closed = format!("127.0.0.1:{}", closed_port());
    let checks = HealthChecks(vec![
        health(json!({ "command": ["true"], "retries": 1 })),
        health(json!({ "tcp": closed, "retries": 1 })),
        health(json!({ "command": ["true"], "retries": 1 })),
    ]);
    let (events, mut receiver) = sink("host.workstation");
    let error = check_all(&checks, &Placement::Local, &events).await.unwrap_err();
    assert_eq!(error.summary, format!("health check failed: tcp {closed} refused the connection"));
    assert_eq!(
        progress(&drain(&mut receiver)),
        [
            "health check 1/1: `true` succeeded".to_owned(),
            format!("health check 1/1: tcp {closed} refused the connection")
        ]
    );
}

#[tokio::test]
async fn an_http_check_reads_a_real_python_server() {
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("healthz"), "status: ready\n").unwrap();
    let port = closed_port().to_string();
    let server = CommandSpec::new("python3")
        .args(["-m", "http.server", "--bind", "127.0.0.1", &port])
        .cwd(root.path())
        .timeout(Duration::from_secs(30));
    // The server takes a moment to start: the retries cover it.
    let check_spec =
        health(json!({ "http": format!("http://127.0.0.1:{port}/healthz"), "body": "ready", "retries": 8 }));
    let (events, _receiver) = sink("service.web");
    tokio::select! {
        result = check(&check_spec, &Placement::Local, &events) => assert!(result.unwrap().ends_with("/healthz answered 200")),
        // Dropping the server's run when the check is done stops it.
        ended = process::run(&server, None) => panic!("the server stopped first: {ended:?}"),
    }
}

#[test]
fn backoff_doubles_up_to_its_cap() {
    let pauses: Vec<Duration> = (1..=6).map(backoff).collect();
    let expected = [500, 1000, 2000, 4000, 8000, 8000].map(Duration::from_millis);
    assert_eq!(pauses, expected);
    assert_eq!(backoff(40), MAX_BACKOFF);
}
