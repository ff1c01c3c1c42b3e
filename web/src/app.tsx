import { BrowserRouter, Navigate, Route, Routes } from "react-router-dom";
import { Page } from "./components/page.tsx";
import { RequireSession, StaffOnly } from "./layout.tsx";
import { ApprovalsPage, BreakGlassPage, GrantsPage } from "./pages/access.tsx";
import { AccountPage } from "./pages/account.tsx";
import { AgreementPage, AgreementsPage } from "./pages/agreements.tsx";
import { AlertRulesPage } from "./pages/alert-rules.tsx";
import { AlertPage, AlertsPage } from "./pages/alerts.tsx";
import { AuditPage } from "./pages/audit.tsx";
import { DashboardPage } from "./pages/dashboard.tsx";
import { DeveloperPage, DevelopersPage, NewDeveloperPage } from "./pages/developers.tsx";
import { EngagementPage, EngagementsPage } from "./pages/engagements.tsx";
import { EnrolPage } from "./pages/enrol.tsx";
import { DeveloperActivityPage, EventPage, EventsPage, LogPage } from "./pages/events.tsx";
import { HintsPage } from "./pages/hints.tsx";
import { InvitePage } from "./pages/invite.tsx";
import { JobsPage } from "./pages/jobs.tsx";
import { KeysPage } from "./pages/keys.tsx";
import { MyAccessPage } from "./pages/my-access.tsx";
import { MySharesPage } from "./pages/my-shares.tsx";
import { PortalPage } from "./pages/portal.tsx";
import { ResourcePage, ResourcesPage } from "./pages/resources.tsx";
import { NewReviewPage, ReviewPage, ReviewsPage } from "./pages/reviews.tsx";
import { ScanReportPage, ScansPage } from "./pages/scans.tsx";
import { SettingsPage } from "./pages/settings.tsx";
import { SetupPage } from "./pages/setup.tsx";
import { ShareDetailPage, SharesPage } from "./pages/shares.tsx";
import { SiemPage } from "./pages/siem.tsx";
import { SignInPage } from "./pages/sign-in.tsx";
import { TlsScansPage, TlsTargetPage } from "./pages/tls-scans.tsx";
import { TrainingPage } from "./pages/training.tsx";
import { UsersPage } from "./pages/users.tsx";
import { VendorPage, VendorsPage } from "./pages/vendors.tsx";
import { VettingPage } from "./pages/vetting.tsx";
import { SessionProvider, useSession } from "./session.tsx";

function Home() {
  const { state } = useSession();
  if (state.status === "signed-in" && state.user.role === "developer") return <Navigate to="/me" replace />;
  return <DashboardPage />;
}

function NotFound() {
  return (
    <Page title="Page not found">
      <p>
        There is nothing here. Go to the <a href="/">start page</a>.
      </p>
    </Page>
  );
}

const staff = (el: React.ReactNode) => <StaffOnly>{el}</StaffOnly>;

export function App() {
  return (
    <SessionProvider>
      <BrowserRouter>
        <Routes>
          <Route path="/setup" element={<SetupPage />} />
          <Route path="/sign-in" element={<SignInPage />} />
          <Route path="/invite" element={<InvitePage />} />
          <Route path="/enrol" element={<EnrolPage />} />
          <Route element={<RequireSession />}>
            <Route index element={<Home />} />
            <Route path="/vendors" element={staff(<VendorsPage />)} />
            <Route path="/vendors/new" element={staff(<VendorPage />)} />
            <Route path="/vendors/:id" element={staff(<VendorPage />)} />
            <Route path="/developers" element={staff(<DevelopersPage />)} />
            <Route path="/developers/new" element={staff(<NewDeveloperPage />)} />
            <Route path="/developers/:id" element={staff(<DeveloperPage />)} />
            <Route path="/developers/:id/vetting" element={staff(<VettingPage />)} />
            <Route path="/developers/:id/activity" element={staff(<DeveloperActivityPage />)} />
            <Route path="/events" element={staff(<EventsPage />)} />
            <Route path="/events/log" element={staff(<LogPage />)} />
            <Route path="/events/:id" element={staff(<EventPage />)} />
            <Route path="/engagements" element={staff(<EngagementsPage />)} />
            <Route path="/engagements/new" element={staff(<EngagementPage />)} />
            <Route path="/engagements/:id" element={staff(<EngagementPage />)} />
            <Route path="/agreements" element={staff(<AgreementsPage />)} />
            <Route path="/agreements/new" element={staff(<AgreementPage />)} />
            <Route path="/agreements/:id" element={staff(<AgreementPage />)} />
            <Route path="/training" element={staff(<TrainingPage />)} />
            <Route path="/scans" element={staff(<ScansPage />)} />
            <Route path="/scans/:id" element={staff(<ScanReportPage />)} />
            <Route path="/users" element={staff(<UsersPage />)} />
            <Route path="/audit" element={staff(<AuditPage />)} />
            <Route path="/settings" element={staff(<SettingsPage />)} />
            <Route path="/settings/jobs" element={staff(<JobsPage />)} />
            <Route path="/scans/tls" element={staff(<TlsScansPage />)} />
            <Route path="/scans/tls/:id" element={staff(<TlsTargetPage />)} />
            <Route path="/settings/keys" element={staff(<KeysPage />)} />
            <Route path="/alerts" element={staff(<AlertsPage />)} />
            <Route path="/alerts/rules" element={staff(<AlertRulesPage />)} />
            <Route path="/alerts/forwarding" element={staff(<SiemPage />)} />
            <Route path="/alerts/:id" element={staff(<AlertPage />)} />
            <Route path="/account" element={<AccountPage />} />
            <Route path="/access" element={<Navigate to="/access/approvals" replace />} />
            <Route path="/access/approvals" element={staff(<ApprovalsPage />)} />
            <Route path="/access/grants" element={staff(<GrantsPage />)} />
            <Route path="/access/resources" element={staff(<ResourcesPage />)} />
            <Route path="/access/resources/new" element={staff(<ResourcePage />)} />
            <Route path="/access/resources/:id" element={staff(<ResourcePage />)} />
            <Route path="/access/break-glass" element={staff(<BreakGlassPage />)} />
            <Route path="/access/hints" element={staff(<HintsPage />)} />
            <Route path="/reviews" element={staff(<ReviewsPage />)} />
            <Route path="/reviews/new" element={staff(<NewReviewPage />)} />
            <Route path="/reviews/:id" element={staff(<ReviewPage />)} />
            <Route path="/me" element={<PortalPage />} />
            <Route path="/me/access" element={<MyAccessPage />} />
            <Route path="/me/shares" element={<MySharesPage />} />
            <Route path="/shares" element={staff(<SharesPage />)} />
            <Route path="/shares/:id" element={staff(<ShareDetailPage />)} />
            <Route path="*" element={staff(<NotFound />)} />
          </Route>
        </Routes>
      </BrowserRouter>
    </SessionProvider>
  );
}
