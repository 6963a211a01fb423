import { render } from 'preact';
import { App } from './app.tsx';
import { PORTAL } from './paths.ts';
import { PortalApp, adoptPortalToken } from './portal.tsx';
import './styles.css';

if (PORTAL) adoptPortalToken();
render(PORTAL ? <PortalApp /> : <App />, document.getElementById('app')!);
