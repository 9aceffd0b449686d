{
  description = "Resilience Lab: every tool the workshop needs, from one nixpkgs release";

  # One nixpkgs release pins every tool's version. The first `nix develop`
  # records the exact revision in flake.lock; commit it to pin the room.
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.11";

  outputs = { self, nixpkgs }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" "x86_64-darwin" "aarch64-darwin" ];
      forEachSystem = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    in
    {
      devShells = forEachSystem (pkgs: {
        default = pkgs.mkShell {
          packages = with pkgs; [
            # Rust: the workspace needs 1.89 or later.
            cargo
            rustc
            clippy
            rustfmt
            # The cluster path: the Docker client talks to Docker Desktop;
            # `make image` builds with BuildKit, which needs buildx.
            docker-client
            docker-buildx
            kubectl
            k3d
            # initdb and pg_ctl for the local stack's private PostgreSQL.
            postgresql
            gnumake
            curl
            jq
            git
          ];
          shellHook = ''
            echo "Resilience Lab tools are ready: make help"
          '';
        };
      });
    };
}
