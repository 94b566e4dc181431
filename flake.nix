{
  description = "rave: plan and apply Nix-based infrastructure from one desired-state file";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs = { self, nixpkgs }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    in
    {
      packages = forAllSystems (pkgs: rec {
        rave = pkgs.callPackage ./nix/package.nix { };
        default = rave;
      });
      devShells = forAllSystems (pkgs: {
        default = pkgs.mkShell {
          inputsFrom = [ self.packages.${pkgs.system}.rave ];
          packages = [ pkgs.clippy pkgs.rustfmt pkgs.nix pkgs.openssh pkgs.qemu ];
        };
      });
    };
}
