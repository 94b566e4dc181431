# rave as a Nix package; the version comes from Cargo.toml so there is one place to bump it.
{ lib, rustPlatform }:

let
  manifest = (lib.importTOML ../Cargo.toml).package;
in
rustPlatform.buildRustPackage {
  pname = manifest.name;
  inherit (manifest) version;
  src = lib.cleanSource ../.;
  cargoLock.lockFile = ../Cargo.lock;
  # The integration tests drive real programs (nix, ssh, qemu) that the build sandbox lacks.
  doCheck = false;
  meta = {
    inherit (manifest) description;
    license = with lib.licenses; [ mit asl20 ];
    mainProgram = "rave";
  };
}
