# Evaluates flake.nix's outputs against a stand-in nixpkgs, offline: the
# devShell must exist for every system and list every tool by a name the
# stand-in knows (the names nixpkgs uses). `deploy/check-static.sh` runs it.
{ flake ? ../flake.nix }:
let
  flake' = import flake;
  tools = [ "cargo" "rustc" "clippy" "rustfmt" "docker-client" "docker-buildx" "kubectl" "k3d"
            "postgresql" "gnumake" "curl" "jq" "git" ];
  systems = [ "x86_64-linux" "aarch64-linux" "x86_64-darwin" "aarch64-darwin" ];
  genAttrs = names: f: builtins.listToAttrs (map (name: { inherit name; value = f name; }) names);
  packagesFor = system: genAttrs tools (name: { inherit name system; }) // {
    mkShell = args: { packages = map (package: package.name) args.packages; };
  };
  nixpkgs = {
    lib = { inherit genAttrs; };
    legacyPackages = genAttrs systems packagesFor;
  };
  outputs = flake'.outputs { self = outputs; inherit nixpkgs; };
  shells = map (system: outputs.devShells.${system}.default.packages) systems;
in
  assert flake' ? description && flake' ? inputs && flake'.inputs ? nixpkgs;
  assert builtins.all (packages: builtins.sort builtins.lessThan packages == builtins.sort builtins.lessThan tools) shells;
  "flake.nix: a devShell with every tool for ${toString (builtins.length systems)} systems"
