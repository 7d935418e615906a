import { createTheme, MantineProvider } from '@mantine/core';
import { BrowserRouter, Route, Routes } from 'react-router';
import { LiveJobsProvider } from './api/live-jobs';
import { SessionProvider, useSessionState } from './auth/session';
import { SignInPage } from './auth/sign-in-page';
import { DataPage } from './data/data-page';
import { DeadLettersPage } from './dead-letters/dead-letters-page';
import { JobPage } from './job/job-page';
import { JobsPage } from './jobs/jobs-page';
import { AppLayout } from './layout/app-layout';
import { NewJobPage } from './new-job/new-job-page';
import { OverviewPage } from './overview/overview-page';
import { PausesProvider } from './pauses/pauses-context';
import { PausesPage } from './pauses/pauses-page';
import { NewSchedulePage } from './schedules/new-schedule-page';
import { SchedulePage } from './schedules/schedule-page';
import { SchedulesPage } from './schedules/schedules-page';
import { TimersPage } from './timers/timers-page';
import { Empty } from './ui/states';

const theme = createTheme({ primaryColor: 'indigo', defaultRadius: 'md' });

function SignedIn() {
  return (
    <LiveJobsProvider>
      <PausesProvider>
        <Routes>
          <Route element={<AppLayout />}>
            <Route index element={<OverviewPage />} />
            <Route path="jobs" element={<JobsPage />} />
            <Route path="jobs/:id" element={<JobPage />} />
            <Route path="schedules" element={<SchedulesPage />} />
            <Route path="schedules/new" element={<NewSchedulePage />} />
            <Route path="schedules/:id" element={<SchedulePage />} />
            <Route path="dead-letters" element={<DeadLettersPage />} />
            <Route path="new" element={<NewJobPage />} />
            <Route path="data" element={<DataPage />} />
            <Route path="timers" element={<TimersPage />} />
            <Route path="pauses" element={<PausesPage />} />
            <Route path="*" element={<Empty>There is no such page in the dashboard.</Empty>} />
          </Route>
        </Routes>
      </PausesProvider>
    </LiveJobsProvider>
  );
}

function Gate() {
  const { session } = useSessionState();
  // Keyed by token, so that signing in as another tenant starts from a clean slate.
  return session ? <SignedIn key={session.token} /> : <SignInPage />;
}

export function App() {
  return (
    <MantineProvider theme={theme} defaultColorScheme="auto">
      <SessionProvider>
        <BrowserRouter basename="/ui">
          <Gate />
        </BrowserRouter>
      </SessionProvider>
    </MantineProvider>
  );
}
