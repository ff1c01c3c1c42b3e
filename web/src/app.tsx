import { BrowserRouter, Navigate, Route, Routes } from "react-router-dom";
import { Page } from "./components/page.tsx";
import { RequireSession, StaffOnly } from "./layout.tsx";
import { AccountPage } from "./pages/account.tsx";
import { AgreementPage, AgreementsPage } from "./pages/agreements.tsx";
import { DashboardPage } from "./pages/dashboard.tsx";
import { DeveloperPage, DevelopersPage, NewDeveloperPage } from "./pages/developers.tsx";
import { EngagementPage, EngagementsPage } from "./pages/engagements.tsx";
import { EnrolPage } from "./pages/enrol.tsx";
import { InvitePage } from "./pages/invite.tsx";
import { PortalPage } from "./pages/portal.tsx";
import { ScanReportPage, ScansPage } from "./pages/scans.tsx";
import { SetupPage } from "./pages/setup.tsx";
import { SignInPage } from "./pages/sign-in.tsx";
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
            <Route path="/account" element={<AccountPage />} />
            <Route path="/me" element={<PortalPage />} />
            <Route path="*" element={staff(<NotFound />)} />
          </Route>
        </Routes>
      </BrowserRouter>
    </SessionProvider>
  );
}
