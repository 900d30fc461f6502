//! A small file chooser drawn inside the window, so picking a data file or a run directory
//! needs no native dialog library.

use std::path::{Path, PathBuf};

use eframe::egui;

/// Files the chooser lists besides folders: the data formats `acf` reads.
const DATA_EXTENSIONS: [&str; 4] = ["csv", "tsv", "jsonl", "json"];

/// The kind of path the chooser returns.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Pick {
    /// A data file; folders are only for navigating.
    DataFile,
    /// A folder, chosen with "Use this folder".
    Folder,
}

pub struct FileBrowser {
    pick: Pick,
    folder: PathBuf,
    /// Names in `folder`, folders first, each with whether it is a folder.
    entries: Vec<(String, bool)>,
    error: Option<String>,
}

impl FileBrowser {
    /// Opens at the folder of `current` (a path typed so far), else the working directory.
    pub fn new(pick: Pick, current: &str) -> FileBrowser {
        let current = Path::new(current.trim());
        let start = if current.is_dir() {
            current.to_path_buf()
        } else {
            current
                .parent()
                .filter(|parent| parent.is_dir())
                .map(Path::to_path_buf)
                .unwrap_or_else(|| PathBuf::from("."))
        };
        let mut browser = FileBrowser {
            pick,
            folder: PathBuf::new(),
            entries: Vec::new(),
            error: None,
        };
        browser.enter(start);
        browser
    }

    fn enter(&mut self, folder: PathBuf) {
        let folder = folder.canonicalize().unwrap_or(folder);
        match std::fs::read_dir(&folder) {
            Ok(entries) => {
                let mut listed: Vec<(String, bool)> = entries
                    .filter_map(|entry| entry.ok())
                    .filter_map(|entry| {
                        let is_folder = entry.path().is_dir();
                        let name = entry.file_name().to_string_lossy().into_owned();
                        let shown =
                            is_folder || (self.pick == Pick::DataFile && has_data_extension(&name));
                        (shown && !name.starts_with('.')).then_some((name, is_folder))
                    })
                    .collect();
                listed.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                self.entries = listed;
                self.folder = folder;
                self.error = None;
            }
            Err(err) => self.error = Some(format!("cannot list {}: {err}", folder.display())),
        }
    }

    /// Draws the chooser window. Returns `Some(Some(path))` when a path was picked,
    /// `Some(None)` when the chooser was closed without one, and `None` while it stays open.
    pub fn show(&mut self, ctx: &egui::Context) -> Option<Option<PathBuf>> {
        let mut outcome = None;
        let mut open = true;
        let title = match self.pick {
            Pick::DataFile => "Choose a data file",
            Pick::Folder => "Choose a folder",
        };
        egui::Window::new(title)
            .open(&mut open)
            .default_size([420.0, 360.0])
            .show(ctx, |ui| {
                ui.monospace(self.folder.display().to_string());
                ui.horizontal(|ui| {
                    if ui.button("Up").clicked()
                        && let Some(parent) = self.folder.parent()
                    {
                        self.enter(parent.to_path_buf());
                    }
                    if self.pick == Pick::Folder && ui.button("Use this folder").clicked() {
                        outcome = Some(Some(self.folder.clone()));
                    }
                });
                if let Some(error) = &self.error {
                    ui.colored_label(ui.visuals().error_fg_color, error);
                }
                ui.separator();
                let mut enter = None;
                egui::ScrollArea::vertical().show(ui, |ui| {
                    for (name, is_folder) in &self.entries {
                        let label = if *is_folder {
                            format!("{name}/")
                        } else {
                            name.clone()
                        };
                        if ui.selectable_label(false, label).clicked() {
                            let path = self.folder.join(name);
                            if *is_folder {
                                enter = Some(path);
                            } else {
                                outcome = Some(Some(path));
                            }
                        }
                    }
                });
                if let Some(folder) = enter {
                    self.enter(folder);
                }
            });
        if !open {
            outcome = Some(None);
        }
        outcome
    }
}

fn has_data_extension(name: &str) -> bool {
    Path::new(name)
        .extension()
        .and_then(|extension| extension.to_str())
        .is_some_and(|extension| DATA_EXTENSIONS.contains(&extension.to_ascii_lowercase().as_str()))
}
