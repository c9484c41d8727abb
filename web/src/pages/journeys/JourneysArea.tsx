import { Route, Routes } from 'react-router';
import NotFoundPage from '../NotFoundPage';
import JourneyBuilderPage from './JourneyBuilderPage';
import JourneysListPage from './JourneysListPage';
import { addAreaTexts } from '../../i18n';
import en from '../../locales/journeys.en.json';
import th from '../../locales/journeys.th.json';

addAreaTexts({ th, en });

/** The journeys screens (nested routes under /journeys/): the list and gallery, and the builder. */
export default function JourneysArea() {
  return (
    <Routes>
      <Route index element={<JourneysListPage />} />
      <Route path=":id" element={<JourneyBuilderPage />} />
      <Route path="*" element={<NotFoundPage />} />
    </Routes>
  );
}
