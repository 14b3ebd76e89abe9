import { render } from 'preact';
import { App } from './app';
import { AgentDesk } from './pages/agent-desk';
import './styles.css';

/** /console/agent is the agent desktop; every other path is the configuration console. */
const agentDesk = /\/console\/agent\/?$/.test(location.pathname);
render(agentDesk ? <AgentDesk /> : <App />, document.getElementById('app')!);
