fn main() -> std::process::ExitCode {
    liasse::cli::main()
}
