//! The `host-sim` binary: parse, dispatch, print errors, exit with 0, 1 or 2.

use std::process::ExitCode;

use host_sim::cli::{self, Command, USAGE};
use host_sim::cmd;

fn main() -> ExitCode {
    let result = cli::parse().and_then(|command| match command {
        Command::Route(args) => cmd::route(&args),
        Command::Test(args) => cmd::test(&args),
        Command::Check(args) => cmd::check(&args),
        Command::Config(args) => cmd::config(&args),
        Command::Package(args) => cmd::package(&args),
        Command::Bench(args) => cmd::bench(&args),
        Command::Serve(args) => cmd::serve(&args),
        Command::Echo(args) => cmd::echo(&args),
        Command::Help => {
            println!("{USAGE}");
            Ok(cmd::Exit::Success)
        }
    });
    match result {
        Ok(exit) => ExitCode::from(exit as u8),
        // A closed pipe (`host-sim test ... | head`) is the reader's choice, not a failure.
        Err(err)
            if err
                .downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("host-sim: {err:#}");
            ExitCode::from(2)
        }
    }
}
