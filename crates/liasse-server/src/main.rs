fn main() -> std::process::ExitCode {
    liasse_server::cli::main()
}
