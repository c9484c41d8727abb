import { Route, Routes } from 'react-router';
import NotFoundPage from '../NotFoundPage';
import CampaignListPage from './CampaignListPage';
import CampaignPage, { CampaignNewPage } from './CampaignPage';
import { addAreaTexts } from '../../i18n';
import en from '../../locales/campaigns.en.json';
import th from '../../locales/campaigns.th.json';

addAreaTexts({ th, en });

/** The campaigns screens: /campaigns, /campaigns/new, /campaigns/:id (editor, then results). */
export default function CampaignsArea() {
  return (
    <Routes>
      <Route index element={<CampaignListPage />} />
      <Route path="new" element={<CampaignNewPage />} />
      <Route path=":id" element={<CampaignPage />} />
      <Route path="*" element={<NotFoundPage />} />
    </Routes>
  );
}
