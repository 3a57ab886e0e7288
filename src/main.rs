fn main() {
    std::process::exit(qmulgen::cli::main());
}
