//! One request as text the fuzzer can mutate: lines separated by `\n`, bytes anything else.
//!
//! ```text
//! 3 443                    configuration number (from fuzz/configs/, modulo their count), port
//! :method<TAB>GET          request headers, one per line: name, tab, value
//! *2000<TAB>x-a<TAB>1      the same header 2000 times
//!                          an empty line ends the request headers
//! :status<TAB>200          the upstream's response headers
//!                          a second empty line: the rest is the request body
//! {"a": 1}
//! ```
//!
//! Nothing is refused: a missing number is 0, a missing port none, a line without a tab a
//! header with an empty value, so every input is a request.

use host_sim::envoy::HttpRequest;

/// Repeats of one header line at most.
const MAX_REPEAT: usize = 10_000;

/// A request and the configuration it goes through.
#[derive(Debug)]
pub struct TextRequest {
    /// Index into the configurations (taken modulo their count).
    pub configuration: usize,
    /// The request.
    pub request: HttpRequest,
}

/// Reads a request; see the module's documentation.
pub fn decode(data: &[u8]) -> TextRequest {
    let mut lines = data.split(|&b| b == b'\n');
    let first = String::from_utf8_lossy(lines.next().unwrap_or_default()).into_owned();
    let mut numbers = first.split(' ');
    let configuration = numbers.next().and_then(|n| n.parse().ok()).unwrap_or(0);
    let mut request = HttpRequest {
        destination_port: numbers.next().and_then(|n| n.parse().ok()),
        ..HttpRequest::default()
    };
    let mut section = 0;
    let mut consumed = first.len() + 1;
    for line in lines.by_ref() {
        consumed += line.len() + 1;
        if line.is_empty() && consumed > data.len() {
            // The newline that ends the text separates nothing.
            break;
        }
        if line.is_empty() {
            section += 1;
            if section == 2 {
                break;
            }
            continue;
        }
        let headers = if section == 0 {
            &mut request.headers
        } else {
            &mut request.response_headers
        };
        let (times, line) = repeat(line);
        let (name, value) = match line.iter().position(|&b| b == b'\t') {
            Some(tab) => (&line[..tab], &line[tab + 1..]),
            None => (line, &[][..]),
        };
        let name = String::from_utf8_lossy(name).into_owned();
        headers.extend(std::iter::repeat_n((name, value.to_vec()), times));
    }
    if section == 2 {
        request.body = Some(data.get(consumed..).unwrap_or_default().to_vec());
    }
    TextRequest {
        configuration,
        request,
    }
}

/// `*N<TAB>rest` means `rest` N times.
fn repeat(line: &[u8]) -> (usize, &[u8]) {
    let Some(rest) = line.strip_prefix(b"*") else {
        return (1, line);
    };
    let Some(tab) = rest.iter().position(|&b| b == b'\t') else {
        return (1, line);
    };
    let times = std::str::from_utf8(&rest[..tab])
        .ok()
        .and_then(|n| n.parse().ok());
    match times {
        Some(times) => (usize::min(times, MAX_REPEAT), &rest[tab + 1..]),
        None => (1, line),
    }
}

/// Writes `request` for configuration `configuration` so that [`decode`] reads it back.
pub fn encode(configuration: usize, request: &HttpRequest) -> Vec<u8> {
    let mut out = format!("{configuration}").into_bytes();
    if let Some(port) = request.destination_port {
        out.extend(format!(" {port}").bytes());
    }
    out.push(b'\n');
    let line = |out: &mut Vec<u8>, (name, value): &(String, Vec<u8>)| {
        out.extend(name.bytes());
        out.push(b'\t');
        out.extend(value);
        out.push(b'\n');
    };
    request.headers.iter().for_each(|h| line(&mut out, h));
    out.push(b'\n');
    request
        .response_headers
        .iter()
        .for_each(|h| line(&mut out, h));
    if let Some(body) = &request.body {
        out.push(b'\n');
        out.extend(body);
    }
    out
}
