"""``python -m glucosim ...``: the same command line as ``glucosim ...`` (for an interpreter whose scripts folder is
not on the PATH, and for tools that run the package with their own interpreter: tools/refit.py)."""

if __name__ == "__main__":  # importing the module (pkgutil.walk_packages, documentation tools) runs nothing
    from glucosim.cli import main

    main(prog_name="glucosim")
