//! The server reads its Leptos defaults from minimal/Cargo.toml (`get_configuration` takes the
//! text from `[package.metadata.leptos]` to the end of the file): that section stays last, and
//! parses into the options cargo-leptos uses. Uses only leptos's configuration reader.

use leptos::config::get_config_from_str;

#[test]
fn the_leptos_section_is_last_and_parses() {
    let manifest = include_str!("../Cargo.toml");
    let start = manifest
        .find("\n[package.metadata.leptos]\n")
        .expect("a [package.metadata.leptos] section");
    let after = &manifest[start + 1..];
    let later_sections: Vec<&str> = after
        .lines()
        .skip(1)
        .filter(|line| line.starts_with('['))
        .collect();
    assert!(
        later_sections.is_empty(),
        "sections after [package.metadata.leptos] would be read as Leptos options: {later_sections:?}"
    );
    let options = get_config_from_str(manifest).expect("Leptos options");
    assert_eq!(options.site_addr.to_string(), "127.0.0.1:3100");
    assert_eq!(&*options.site_root, "target/site-minimal");
    assert_eq!(&*options.output_name, "parley");
}
