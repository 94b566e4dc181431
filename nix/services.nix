# rave's service types as NixOS options: the module every VM flake rave generates imports.
#
# `rave.services.NAME = { type; port; settings; }` comes from the services the file places on
# the VM (`runs_on: vm.NAME`); each type turns on the NixOS module of the same program, listening
# on the declared port and opened in the firewall. `settings` are merged into the program's own
# `settings` option where it has one. Secrets are not passed here: they stay references.
{ config, lib, ... }:
let
  cfg = config.rave.services;
  ofType = type: lib.filterAttrs (_: service: service.type == type) cfg;
  any = type: ofType type != { };
  first = type: lib.head (lib.attrValues (ofType type));
  portOf = type: default: let service = first type; in if service.port == null then default else service.port;
in
{
  options.rave.services = lib.mkOption {
    description = "Services rave places on this machine, by name.";
    default = { };
    type = lib.types.attrsOf (lib.types.submodule {
      options = {
        type = lib.mkOption { type = lib.types.str; description = "rave's service type."; };
        port = lib.mkOption { type = lib.types.nullOr lib.types.port; default = null; description = "Listening port."; };
        settings = lib.mkOption { type = lib.types.attrs; default = { }; description = "Type-specific settings."; };
      };
    });
  };

  config = lib.mkMerge [
    {
      networking.firewall.allowedTCPPorts =
        lib.concatMap (service: lib.optional (service.port != null) service.port) (lib.attrValues cfg);
    }
    (lib.mkIf (any "postgresql") {
      services.postgresql = { enable = true; settings = (first "postgresql").settings // { port = portOf "postgresql" 5432; }; };
    })
    (lib.mkIf (any "redis") {
      services.redis.servers.rave = { enable = true; port = portOf "redis" 6379; bind = null; };
    })
    (lib.mkIf (any "nats") {
      services.nats = { enable = true; port = portOf "nats" 4222; jetstream = (first "nats").settings.jetstream or false; };
    })
    (lib.mkIf (any "nginx") {
      services.nginx = {
        enable = true;
        virtualHosts.rave = { listen = [ { addr = "0.0.0.0"; port = portOf "nginx" 80; } ]; locations."= /healthz".return = "200 ok"; };
      };
    })
    (lib.mkIf (any "grafana") {
      services.grafana = { enable = true; settings.server = { http_addr = "0.0.0.0"; http_port = portOf "grafana" 3000; }; };
    })
    (lib.mkIf (any "prometheus") {
      services.prometheus = { enable = true; port = portOf "prometheus" 9090; };
    })
    (lib.mkIf (any "mattermost") {
      services.mattermost = { enable = true; listenAddress = ":${toString (portOf "mattermost" 8065)}"; };
    })
    (lib.mkIf (any "gitlab") {
      services.gitlab = { enable = true; port = portOf "gitlab" 80; } // (first "gitlab").settings;
    })
  ];
}
