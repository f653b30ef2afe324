//! `host-sim test`: run case files, print what failed, end with `N passed, N failed`.

use std::io::Write;

use anyhow::Result;

use super::Exit;
use crate::cases::LoadedFile;
use crate::cli::TestArgs;
use crate::envoy::WasmModule;
use crate::wasm;

/// Runs `host-sim test`.
///
/// # Errors
///
/// When the module cannot be loaded. Broken case files count as failures and are reported.
pub fn test(args: &TestArgs) -> Result<Exit> {
    let module = WasmModule::from_file(&wasm::locate(args.wasm.as_deref(), wasm::FILTER_PACKAGE)?)?;
    let mut out = std::io::stdout().lock();
    let (mut passed, mut failed) = (0usize, 0usize);
    for path in &args.files {
        let started =
            LoadedFile::load_serving(path, args.ingress_class.as_deref()).and_then(|file| {
                let proxy = file.start(&module)?;
                Ok((file, proxy))
            });
        let (file, mut proxy) = match started {
            Ok(started) => started,
            Err(err) => {
                writeln!(out, "FAIL {}: {err:#}", path.display())?;
                failed += 1;
                continue;
            }
        };
        for case in &file.cases {
            match case.run(&mut proxy, &file.cluster_header) {
                Ok(observed) => {
                    passed += 1;
                    if args.verbose {
                        let spec = case.request_spec();
                        writeln!(out, "ok   {} :: {}", path.display(), case.name)?;
                        writeln!(
                            out,
                            "     {} {}{}",
                            spec.method,
                            spec.url,
                            headers_suffix(&spec.headers)
                        )?;
                        write!(out, "{}", observed.render("       "))?;
                    }
                }
                Err(problems) => {
                    failed += 1;
                    writeln!(out, "FAIL {} :: {}", path.display(), case.name)?;
                    for problem in problems {
                        writeln!(out, "     {problem}")?;
                    }
                }
            }
        }
    }
    writeln!(out, "{passed} passed, {failed} failed")?;
    Ok(if failed == 0 {
        Exit::Success
    } else {
        Exit::Failure
    })
}

fn headers_suffix(headers: &[(String, String)]) -> String {
    headers
        .iter()
        .map(|(n, v)| format!("  [{n}: {v}]"))
        .collect()
}
