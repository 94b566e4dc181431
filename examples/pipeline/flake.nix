# Stand-ins for ADR-018's heavy packages: plain derivations that build in a blink with no inputs,
# so the pipeline runs on a machine without nixpkgs or network. Replace them with the real ones
# (`inputs.nixpkgs`, `pkgs.callPackage ./codex { }`, …); rave only needs the attribute names.
{
  outputs = { self }:
    let
      package = name: version: derivation {
        name = "${name}-${version}";
        system = "x86_64-linux";
        builder = "/bin/sh";
        args = [ "-c" "echo ${name} ${version} > $out" ];
      };
    in {
      packages.x86_64-linux = {
        codex = package "codex" "0.1.2";
        onnxruntime = package "onnxruntime" "1.17.0";
        mcp-servers = package "mcp-servers" "2025.12";
        activation = package "home-manager-generation" "1";
      };
    };
}
