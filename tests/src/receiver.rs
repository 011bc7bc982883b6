//! A real HTTP/1.1 server on 127.0.0.1 that receives webhook deliveries in tests: it keeps
//! every request (headers and body) and answers as the test says (a status, or hanging).
//! Shared by the delivery, Lambda and CLI tests.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How the receiver answers one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// An answer with this status and an empty body.
    Status(u16),
    /// No answer: the connection is held for 20 seconds, then closed.
    Hang,
}

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    /// The request line (`POST /path HTTP/1.1`).
    pub request_line: String,
    /// Header fields in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Received {
    /// The first header of that name, ignoring case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

type Answering = Box<dyn Fn(usize) -> Answer + Send + Sync>;

struct State {
    received: Vec<Received>,
    answering: Answering,
}

/// The server. It runs until the process ends.
pub struct Receiver {
    /// `http://127.0.0.1:<port>/hook`.
    pub url: String,
    state: Arc<Mutex<State>>,
}

impl Receiver {
    /// Starts a receiver; `answer(n)` decides the answer to the `n`-th request (from 0).
    pub fn start(answer: impl Fn(usize) -> Answer + Send + Sync + 'static) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let port = listener.local_addr().expect("local address").port();
        let state = Arc::new(Mutex::new(State {
            received: Vec::new(),
            answering: Box::new(answer),
        }));
        let shared = Arc::clone(&state);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = Arc::clone(&shared);
                std::thread::spawn(move || serve(stream, &state));
            }
        });
        Receiver {
            url: format!("http://127.0.0.1:{port}/hook"),
            state,
        }
    }

    /// A receiver that answers 200 to everything.
    pub fn accepting() -> Receiver {
        Receiver::start(|_| Answer::Status(200))
    }

    /// Changes how the following requests are answered.
    pub fn answer_with(&self, answer: impl Fn(usize) -> Answer + Send + Sync + 'static) {
        self.lock().answering = Box::new(answer);
    }

    /// Every request received so far.
    pub fn received(&self) -> Vec<Received> {
        self.lock().received.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn serve(stream: TcpStream, state: &Mutex<State>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let mut writer = match stream.try_clone() {
        Ok(w) => w,
        Err(_) => return,
    };
    let mut reader = BufReader::new(stream);
    // Keep-alive: serve requests on this connection until the client closes it.
    loop {
        let mut request_line = String::new();
        match reader.read_line(&mut request_line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                headers.push((name.trim().to_owned(), value.trim().to_owned()));
            }
        }
        let length = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse::<usize>().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let answer = {
            let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
            let n = state.received.len();
            state.received.push(Received {
                request_line: request_line.trim_end().to_owned(),
                headers,
                body,
            });
            (state.answering)(n)
        };
        match answer {
            Answer::Hang => {
                std::thread::sleep(Duration::from_secs(20));
                return;
            }
            Answer::Status(code) => {
                let reply = format!("HTTP/1.1 {code} Test\r\nContent-Length: 0\r\n\r\n");
                if writer.write_all(reply.as_bytes()).is_err() {
                    return;
                }
            }
        }
    }
}
