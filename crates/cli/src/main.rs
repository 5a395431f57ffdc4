fn main() {
    println!("umod: {:?}", std::env::args().collect::<Vec<_>>());
}
