// SPDX-License-Identifier: GPL-2.0-or-later
// The collaboration pages, gathered for the router: workspaces and models.
import * as workspacesPage from './workspaces.js';
import * as modelsPage from './models.js';

export { workspacesPage, modelsPage };
