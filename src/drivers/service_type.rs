//! [`ServiceType`]: the built-in service types (`type:` of a service), their default ports, and
//! the health probe a service of that type gets when it declares no `health:`.
//!
//! The probes are the ones each project documents for load balancers: GitLab `/-/health`,
//! Mattermost `/api/v4/system/ping`, NATS monitoring `/healthz`, Grafana `/api/health`,
//! Prometheus `/-/ready`; `PostgreSQL`, Redis and nginx get a TCP connection to their port. Probes
//! run from rave's machine against the address the service's host is reached at.

use crate::model::{HealthCheck, HealthChecks, ServiceSpec};

/// A built-in service type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ServiceType {
    /// The name written in `type:`.
    pub(crate) name: &'static str,
    /// The port it listens on unless `port:` says otherwise.
    pub(crate) default_port: u16,
    /// How it is checked when it declares no `health:`.
    probe: DefaultProbe,
}

/// The default health probe of a type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DefaultProbe {
    /// `GET http://ADDRESS:PORT/PATH` answers 200; the port is the service's own.
    Http(&'static str),
    /// `GET http://ADDRESS:PORT/PATH` on a monitoring port of its own: `settings.SETTING`, or
    /// `default` when unset.
    MonitoringHttp { path: &'static str, setting: &'static str, default: u16 },
    /// A TCP connection to the service's port is accepted.
    Tcp,
}

/// Every built-in type.
pub(crate) const BUILTIN: [ServiceType; 8] = [
    ServiceType { name: "gitlab", default_port: 80, probe: DefaultProbe::Http("/-/health") },
    ServiceType { name: "mattermost", default_port: 8065, probe: DefaultProbe::Http("/api/v4/system/ping") },
    ServiceType {
        name: "nats",
        default_port: 4222,
        probe: DefaultProbe::MonitoringHttp { path: "/healthz", setting: "http_port", default: 8222 },
    },
    ServiceType { name: "grafana", default_port: 3000, probe: DefaultProbe::Http("/api/health") },
    ServiceType { name: "prometheus", default_port: 9090, probe: DefaultProbe::Http("/-/ready") },
    ServiceType { name: "postgresql", default_port: 5432, probe: DefaultProbe::Tcp },
    ServiceType { name: "redis", default_port: 6379, probe: DefaultProbe::Tcp },
    ServiceType { name: "nginx", default_port: 80, probe: DefaultProbe::Tcp },
];

impl ServiceType {
    /// The built-in type called `name`.
    pub(crate) fn named(name: &str) -> Option<&'static Self> {
        BUILTIN.iter().find(|service_type| service_type.name == name)
    }

    /// The port `spec` listens on: its own `port`, or this type's default.
    pub(crate) fn port(&self, spec: &ServiceSpec) -> u16 {
        spec.port.unwrap_or(self.default_port)
    }

    /// The default check of `spec` (of this type), reached at `address` (a host name or IP).
    pub(crate) fn default_check(&self, spec: &ServiceSpec, address: &str) -> Result<HealthCheck, String> {
        let host = if address.contains(':') { format!("[{address}]") } else { address.to_owned() };
        let http = |port: u16, path: &str| {
            let scheme = if port == 443 { "https" } else { "http" };
            HealthCheck { http: Some(format!("{scheme}://{host}:{port}{path}")), ..empty_check() }
        };
        Ok(match self.probe {
            DefaultProbe::Http(path) => http(self.port(spec), path),
            DefaultProbe::MonitoringHttp { path, setting, default } => {
                let port = match spec.settings.get(setting) {
                    None => default,
                    Some(value) => value.as_u64().and_then(|port| u16::try_from(port).ok()).ok_or_else(|| {
                        format!(
                            "`settings.{setting}` of a `{}` service must be a port number, not `{value}`",
                            self.name
                        )
                    })?,
                };
                http(port, path)
            }
            DefaultProbe::Tcp => HealthCheck { tcp: Some(format!("{host}:{}", self.port(spec))), ..empty_check() },
        })
    }
}

/// The checks `spec` gets: its own `health:`, else its type's default probe at `address`;
/// `Ok(None)` when it declares none and its type has no default.
pub(crate) fn checks_of(spec: &ServiceSpec, address: &str) -> Result<Option<HealthChecks>, String> {
    if !spec.health.is_empty() {
        return Ok(Some(spec.health.clone()));
    }
    let Some(service_type) = ServiceType::named(&spec.service_type) else { return Ok(None) };
    Ok(Some(HealthChecks(vec![service_type.default_check(spec, address)?])))
}

/// A check with nothing set, to fill in.
fn empty_check() -> HealthCheck {
    HealthCheck { http: None, tcp: None, command: None, expect: None, body: None, timeout: None, retries: None }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(json: serde_json::Value) -> ServiceSpec {
        serde_json::from_value(json).unwrap()
    }

    fn default_probe(json: serde_json::Value, address: &str) -> String {
        let checks = checks_of(&service(json), address).unwrap().unwrap();
        let check = &checks.0[0];
        check.http.clone().or_else(|| check.tcp.as_ref().map(|tcp| format!("tcp {tcp}"))).unwrap()
    }

    #[test]
    fn every_builtin_type_has_its_default_probe() {
        let probes: Vec<String> = BUILTIN
            .iter()
            .map(|service_type| {
                let spec = serde_json::json!({ "type": service_type.name, "runs_on": "host.h" });
                format!("{}: {}", service_type.name, default_probe(spec, "192.0.2.2"))
            })
            .collect();
        insta::assert_snapshot!(probes.join("\n"), @r"
        gitlab: http://192.0.2.2:80/-/health
        mattermost: http://192.0.2.2:8065/api/v4/system/ping
        nats: http://192.0.2.2:8222/healthz
        grafana: http://192.0.2.2:3000/api/health
        prometheus: http://192.0.2.2:9090/-/ready
        postgresql: tcp 192.0.2.2:5432
        redis: tcp 192.0.2.2:6379
        nginx: tcp 192.0.2.2:80
        ");
    }

    #[test]
    fn declared_ports_and_settings_move_the_probe() {
        let nats = serde_json::json!({ "type": "nats", "runs_on": "host.h", "port": 14222, "settings": { "http_port": 18222 } });
        assert_eq!(default_probe(nats, "127.0.0.1"), "http://127.0.0.1:18222/healthz");
        let redis = serde_json::json!({ "type": "redis", "runs_on": "host.h", "port": 16379 });
        assert_eq!(default_probe(redis, "::1"), "tcp [::1]:16379");
        let gitlab = serde_json::json!({ "type": "gitlab", "runs_on": "host.h", "port": 443 });
        assert_eq!(default_probe(gitlab, "gitlab.lab"), "https://gitlab.lab:443/-/health");
    }

    #[test]
    fn declared_checks_win_and_unknown_types_have_none() {
        let own = serde_json::json!({ "type": "nats", "runs_on": "host.h", "health": { "tcp": "127.0.0.1:1" } });
        assert_eq!(default_probe(own, "192.0.2.2"), "tcp 127.0.0.1:1");
        let outline = service(serde_json::json!({ "type": "outline", "runs_on": "host.h" }));
        assert_eq!(checks_of(&outline, "192.0.2.2"), Ok(None));
        let bad = service(serde_json::json!({ "type": "nats", "runs_on": "host.h", "settings": { "http_port": "x" } }));
        assert_eq!(
            checks_of(&bad, "192.0.2.2"),
            Err("`settings.http_port` of a `nats` service must be a port number, not `\"x\"`".to_owned())
        );
    }
}
