/*
 * transformers-composer: "Insert as a new cell" for JupyterLab 4 and Notebook 7.
 *
 * Hand-written, so nothing is built with Node at install time. JupyterLab loads a prebuilt
 * ("federated") extension like this: the server lists every folder under
 * share/jupyter/labextensions/<name>/ whose package.json has `jupyterlab._build`; the page
 * loads `_build.load` (this file) as a plain <script>, then expects a webpack module-federation
 * container at `window._JUPYTERLAB[<package name>]` with two functions:
 *   init(shareScope)  - receives the shared modules (we import none, so it does nothing);
 *   get(module)       - returns a Promise of a factory for `_build.extension` ("./extension"),
 *                       whose result is a module whose `default` is a plugin or a list of plugins.
 * The plugin requires no tokens (so it needs no shared @jupyterlab/* module): it walks the
 * application shell to find the notebook that holds the widget.
 *
 * The widget dispatches, on its own element:
 *   new CustomEvent("composer:insert-cell", {bubbles: true, composed: true, detail: {code}})
 * and reads `event.detail.handled` right after; if it is still false (no notebook around it,
 * or this extension is not installed), the widget copies the code to the clipboard instead.
 */
(function () {
  "use strict";
  const EVENT = "composer:insert-cell";

  /** The notebook widget and cell index whose DOM contains `node`, or null. */
  function findCell(app, node) {
    for (const widget of app.shell.widgets("main")) {
      const notebook = widget.content;
      if (!notebook || !notebook.model || !notebook.node.contains(node)) continue;
      const index = notebook.widgets.findIndex((cell) => cell.node.contains(node));
      if (index >= 0) return { notebook, index };
    }
    return null;
  }

  const plugin = {
    id: "transformers-composer:insert-cell",
    description: "Inserts the composer widget's code as a new cell below the widget's cell.",
    autoStart: true,
    activate(app) {
      document.addEventListener(EVENT, (event) => {
        const detail = event.detail;
        if (!detail || typeof detail.code !== "string" || detail.handled) return;
        const found = findCell(app, event.target);
        if (!found) return;
        const { notebook, index } = found;
        notebook.model.sharedModel.insertCell(index + 1, { cell_type: "code", source: detail.code });
        notebook.activeCellIndex = index + 1;
        detail.handled = true;
      });
    },
  };

  const modules = { "./extension": () => ({ __esModule: true, default: [plugin] }) };

  const container = {
    init() {},
    get(name) {
      if (!(name in modules)) {
        return Promise.reject(new Error(`Module "${name}" does not exist in container.`));
      }
      return Promise.resolve(modules[name]);
    },
  };

  window._JUPYTERLAB = window._JUPYTERLAB || {};
  window._JUPYTERLAB["transformers-composer"] = container;
})();
